#include "providers/breakerregistry.h"

#include <QMutexLocker>

#include <algorithm>
#include <tuple>
#include <utility>

namespace apex {

BreakerPolicies BreakerPolicies::defaults(std::chrono::milliseconds coolDown)
{
    BreakerPolicies p;
    p.others = BreakerPolicy{5, coolDown};
    p.perProvider.insert(QString::fromLatin1(kAzureTtsBreaker), BreakerPolicy{3, coolDown});
    p.perProvider.insert(QString::fromLatin1(kLlmBreaker), BreakerPolicy{5, coolDown});
    return p;
}

BreakerPolicy BreakerPolicies::forProvider(const QString &provider) const
{
    return perProvider.value(provider, others);
}

BreakerRegistry::BreakerRegistry(BreakerPolicies policies)
    : m_policies(std::move(policies))
{
}

std::shared_ptr<CircuitBreaker> BreakerRegistry::breaker(const QString &provider, const QString &endpoint)
{
    const BreakerKey key{provider, endpoint};
    QMutexLocker lock(&m_mutex);
    auto it = m_breakers.constFind(key);
    if (it != m_breakers.constEnd())
        return it.value();
    auto created = std::make_shared<CircuitBreaker>(m_policies.forProvider(provider));
    attachListener(key, *created);
    m_breakers.insert(key, created);
    return created;
}

void BreakerRegistry::setTransitionListener(TransitionListener listener)
{
    QMutexLocker lock(&m_mutex);
    m_listener = std::move(listener);
    // Attaching takes each breaker's lock under the registry's; that cannot
    // deadlock because a listener never calls back into the registry.
    for (auto it = m_breakers.cbegin(); it != m_breakers.cend(); ++it)
        attachListener(it.key(), *it.value());
}

QList<BreakerReport> BreakerRegistry::reports() const
{
    QList<std::pair<BreakerKey, std::shared_ptr<CircuitBreaker>>> breakers;
    {
        QMutexLocker lock(&m_mutex);
        breakers.reserve(m_breakers.size());
        for (auto it = m_breakers.cbegin(); it != m_breakers.cend(); ++it)
            breakers.append({it.key(), it.value()});
    }
    // Snapshots are taken outside the registry lock, so a scrape never waits
    // on a breaker while another thread waits on the registry.
    QList<BreakerReport> out;
    out.reserve(breakers.size());
    for (const auto &[key, breaker] : breakers)
        out.append(BreakerReport{key, breaker->policy(), breaker->snapshot()});
    std::sort(out.begin(), out.end(), [](const BreakerReport &a, const BreakerReport &b) {
        return std::tie(a.key.provider, a.key.endpoint) < std::tie(b.key.provider, b.key.endpoint);
    });
    return out;
}

void BreakerRegistry::attachListener(const BreakerKey &key, CircuitBreaker &breaker) const
{
    if (!m_listener) {
        breaker.setTransitionListener({});
        return;
    }
    breaker.setTransitionListener(
        [key, listener = m_listener](const BreakerTransition &transition) { listener(key, transition); });
}

} // namespace apex
