#pragma once

#include "providers/circuitbreaker.h"

#include <QHash>
#include <QList>
#include <QMutex>
#include <QString>

#include <chrono>
#include <functional>
#include <memory>

namespace apex {

// Provider names the default policies know. The second half of a breaker's key
// is the endpoint (Azure region, LLM host, a key id): one bad region or key
// must not take the others down with it.
inline constexpr char kAzureTtsBreaker[] = "azure-tts";
inline constexpr char kLlmBreaker[] = "llm";
inline constexpr char kDeepgramBreaker[] = "deepgram";
inline constexpr char kWahaBreaker[] = "waha";

struct BreakerKey
{
    QString provider;
    QString endpoint;

    friend bool operator==(const BreakerKey &, const BreakerKey &) = default;
};

inline size_t qHash(const BreakerKey &key, size_t seed = 0)
{
    return qHashMulti(seed, key.provider, key.endpoint);
}

struct BreakerPolicies
{
    BreakerPolicy others; // any provider without its own entry
    QHash<QString, BreakerPolicy> perProvider;

    // Azure TTS opens after 3 (a sentence that cannot be spoken is heard at
    // once, so give up on it sooner), the LLM and the rest after 5.
    static BreakerPolicies defaults(std::chrono::milliseconds coolDown = std::chrono::seconds(30));
    BreakerPolicy forProvider(const QString &provider) const;
};

struct BreakerReport
{
    BreakerKey key;
    BreakerPolicy policy;
    BreakerSnapshot snapshot;
};

// Every breaker of the process, created on first use. Breakers are never
// removed, so a pointer handed out stays valid and keeps counting for the
// breaker /metrics reports.
class BreakerRegistry
{
public:
    // Same contract as CircuitBreaker::TransitionListener: quick, in order, and
    // no calls back into the reporting breaker nor into this registry.
    using TransitionListener = std::function<void(const BreakerKey &, const BreakerTransition &)>;

    explicit BreakerRegistry(BreakerPolicies policies = BreakerPolicies::defaults());

    BreakerRegistry(const BreakerRegistry &) = delete;
    BreakerRegistry &operator=(const BreakerRegistry &) = delete;

    std::shared_ptr<CircuitBreaker> breaker(const QString &provider, const QString &endpoint);
    // Applies to the breakers that exist and to those created later.
    void setTransitionListener(TransitionListener listener);

    // Sorted by provider then endpoint, so /metrics and the console list them
    // in a stable order.
    QList<BreakerReport> reports() const;
    const BreakerPolicies &policies() const { return m_policies; }

private:
    void attachListener(const BreakerKey &key, CircuitBreaker &breaker) const;

    const BreakerPolicies m_policies;
    mutable QMutex m_mutex;
    QHash<BreakerKey, std::shared_ptr<CircuitBreaker>> m_breakers;
    TransitionListener m_listener;
};

} // namespace apex
