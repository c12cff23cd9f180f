#pragma once

#include "providers/circuitbreaker.h"

#include <memory>

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
    explicit BreakerPass(std::shared_ptr<CircuitBreaker> breaker);
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

private:
    std::shared_ptr<CircuitBreaker> m_breaker;
    Admission m_admission = Admission::Allowed;
    bool m_open = false; // admitted and not yet settled
};

} // namespace apex
