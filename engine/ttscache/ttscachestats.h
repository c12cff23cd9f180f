#pragma once

#include <QJsonObject>
#include <QMap>
#include <QString>

#include <array>

namespace apex {

// Lookup latency in log-spaced microsecond buckets: fixed memory, mergeable
// across tenants, and percentiles good to one bucket (≤ 2.5x), which is what a
// dashboard needs to tell 3 µs from 300 µs from 3 ms.
struct TtsCacheLatency
{
    static constexpr std::array<qint64, 16> kBoundsUs = {2, 5, 10, 20, 50, 100, 200, 500, 1'000, 2'000,
                                                          5'000, 10'000, 20'000, 50'000, 100'000, 250'000};
    std::array<quint64, kBoundsUs.size() + 1> buckets{}; // last: above the highest bound
    quint64 count = 0;
    qint64 sumNs = 0;
    qint64 maxNs = 0;

    void add(qint64 ns);
    void merge(const TtsCacheLatency &other);
    // Upper bound of the bucket holding the q-quantile (0 < q ≤ 1); the maximum
    // when it falls in the overflow bucket; 0 when empty.
    double quantileUs(double q) const;
    double meanUs() const { return count ? double(sumNs) / 1e3 / double(count) : 0.0; }
    QJsonObject toJson() const; // {count, p50Us, p99Us, meanUs, maxUs}
};

// One tenant's counters. "Call" lookups only: pre-warm lookups are counted apart
// so warming a tenant does not flatter its hit ratio.
struct TtsCacheTenantStats
{
    quint64 memoryHits = 0;
    quint64 redisHits = 0;
    quint64 misses = 0;
    quint64 coalesced = 0;   // misses that joined a synthesis already running for the same key
    quint64 redisErrors = 0; // lookups Redis could not answer (down, error, timeout): counted as misses too
    quint64 bytesServed = 0; // hits only
    quint64 bytesStored = 0; // fresh syntheses written back
    quint64 prewarmLookups = 0;
    quint64 prewarmHits = 0;
    TtsCacheLatency memoryHitLatency;
    TtsCacheLatency redisHitLatency;
    TtsCacheLatency missLatency; // time spent finding out it is a miss

    quint64 lookups() const { return memoryHits + redisHits + misses; }
    double hitRatio() const { return lookups() ? double(memoryHits + redisHits) / double(lookups()) : 0.0; }
    void merge(const TtsCacheTenantStats &other);
    QJsonObject toJson() const;
};

struct TtsCacheStats
{
    QMap<QString, TtsCacheTenantStats> tenants;
    qint64 memoryUsedBytes = 0;
    qint64 memoryBudgetBytes = 0;
    qsizetype memoryEntries = 0;
    quint64 memoryEvictions = 0;
    bool redisConfigured = false;
    bool redisConnected = false;
    quint64 redisWrites = 0;
    quint64 redisWriteErrors = 0;
    quint64 redisWritesSkipped = 0; // write-backs dropped because Redis was down

    TtsCacheTenantStats total() const;
    // For /stats: {memory:{...}, redis:{...}, total:{...}, tenants:{id:{...}}}.
    QJsonObject toJson() const;
};

} // namespace apex
