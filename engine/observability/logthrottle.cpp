#include "observability/logthrottle.h"

#include <QDeadlineTimer>

#include <algorithm>

namespace apex {

namespace {

// Addresses are forgotten once their bucket has refilled; this many distinct
// addresses (a spoofed-source flood) trigger the sweep.
constexpr qsizetype kSweepAbove = 4096;

} // namespace

RemoteLogThrottle::RemoteLogThrottle(int perSecond)
{
    setRate(perSecond);
}

RemoteLogThrottle &RemoteLogThrottle::shared()
{
    static RemoteLogThrottle instance;
    return instance;
}

void RemoteLogThrottle::setRate(int perSecond)
{
    QMutexLocker lock(&m_mutex);
    m_perSecond = std::max(1, perSecond);
    m_burst = 4 * m_perSecond;
}

RemoteLogThrottle::Decision RemoteLogThrottle::allow(const QString &remoteAddress)
{
    return allow(remoteAddress, QDeadlineTimer::current().deadline());
}

RemoteLogThrottle::Decision RemoteLogThrottle::allow(const QString &remoteAddress, std::int64_t nowMs)
{
    QMutexLocker lock(&m_mutex);
    if (m_buckets.size() > kSweepAbove)
        forgetIdleLocked(nowMs);
    auto it = m_buckets.find(remoteAddress);
    if (it == m_buckets.end())
        it = m_buckets.insert(remoteAddress, Bucket{m_burst, nowMs, 0});
    Bucket &bucket = it.value();
    bucket.tokens = std::min(m_burst, bucket.tokens + double(nowMs - bucket.lastMs) * m_perSecond / 1000.0);
    bucket.lastMs = nowMs;
    if (bucket.tokens < 1.0) {
        ++bucket.suppressed;
        ++m_suppressedTotal;
        return {};
    }
    bucket.tokens -= 1.0;
    Decision decision{true, bucket.suppressed};
    bucket.suppressed = 0;
    return decision;
}

std::uint64_t RemoteLogThrottle::suppressedTotal() const
{
    QMutexLocker lock(&m_mutex);
    return m_suppressedTotal;
}

void RemoteLogThrottle::forgetIdleLocked(std::int64_t nowMs)
{
    // A full bucket with nothing pending holds no information.
    const double refillMs = 1000.0 * m_burst / m_perSecond;
    for (auto it = m_buckets.begin(); it != m_buckets.end();) {
        if (it->suppressed == 0 && double(nowMs - it->lastMs) >= refillMs)
            it = m_buckets.erase(it);
        else
            ++it;
    }
}

} // namespace apex
