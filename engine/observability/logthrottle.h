#pragma once

#include <QHash>
#include <QMutex>
#include <QString>

#include <cstdint>

namespace apex {

// How many lines about one remote address may reach the log: a peer opening
// 500 bad sockets a second must not write 500 lines a second (disk, journald
// rate limits, and the lines that matter scrolling away). A token bucket per
// address: `perSecond` lines a second, bursts of up to 4 × that.
//
// Thread-safe: legs on several engine threads share one instance.
class RemoteLogThrottle
{
public:
    struct Decision
    {
        bool log = false;
        // Lines refused for this address since the last one allowed: the
        // allowed line should say so ("… (12 similar lines suppressed)").
        std::uint64_t suppressedBefore = 0;
    };

    explicit RemoteLogThrottle(int perSecond = 5);

    // The process-wide instance ApexServer configures from NetworkLimits.
    static RemoteLogThrottle &shared();

    void setRate(int perSecond);
    Decision allow(const QString &remoteAddress);
    // The same with an explicit clock, for tests.
    Decision allow(const QString &remoteAddress, std::int64_t nowMs);

    std::uint64_t suppressedTotal() const;

private:
    struct Bucket
    {
        double tokens = 0;
        std::int64_t lastMs = 0;
        std::uint64_t suppressed = 0;
    };
    void forgetIdleLocked(std::int64_t nowMs);

    mutable QMutex m_mutex;
    double m_perSecond;
    double m_burst;
    QHash<QString, Bucket> m_buckets;
    std::uint64_t m_suppressedTotal = 0;
};

} // namespace apex
