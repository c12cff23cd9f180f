#pragma once

#include "providers/circuitbreaker.h"

#include <memory>
#include <string>

namespace apex {

// One request's passage through a provider's breaker: admitted once when it
// starts, settled exactly once (success, failure, or abandoned when the caller
// hung up or barged in). Unsettled on destruction means abandoned, so a
// request dropped on any path can never hold a half-open probe forever.
// Without a breaker every request is admitted and nothing is counted.
class BreakerPass
{
public:
    BreakerPass() = default;
    // callerLogPrefix: the call's "call=… tenant=… " (log::CallLogger::prefix()),
    // so a state change this pass causes is logged against that call.
    explicit BreakerPass(std::shared_ptr<CircuitBreaker> breaker, std::string callerLogPrefix = {});
    BreakerPass(BreakerPass &&other) noexcept;
    BreakerPass &operator=(BreakerPass &&other) noexcept;
    BreakerPass(const BreakerPass &) = delete;
    BreakerPass &operator=(const BreakerPass &) = delete;
    ~BreakerPass();

    bool refused() const { return m_breaker && m_admission == Admission::Refused; }
    bool isProbe() const { return m_admission == Admission::Probe; }
    bool pending() const { return m_open; } // admitted and not yet settled

    // Each returns the breaker's state after settling (Closed without a breaker).
    BreakerState succeeded();
    BreakerState failed(const ProviderFailure &failure, const QString &detail);
    void abandoned();

    // While a pass admits or settles on this thread (where the breaker's
    // transition listener runs), its caller's log prefix; else empty.
    static const std::string &currentCallerLogPrefix();

private:
    class CallerScope;

    std::shared_ptr<CircuitBreaker> m_breaker;
    Admission m_admission = Admission::Allowed;
    bool m_open = false; // admitted and not yet settled
    std::string m_callerLogPrefix;
};

} // namespace apex
