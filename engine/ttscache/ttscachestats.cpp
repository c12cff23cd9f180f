#include "ttscache/ttscachestats.h"

#include <algorithm>
#include <cmath>

namespace apex {

void TtsCacheLatency::add(qint64 ns)
{
    const qint64 us = ns / 1000;
    const auto it = std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us);
    ++buckets[size_t(it - kBoundsUs.begin())];
    ++count;
    sumNs += ns;
    maxNs = std::max(maxNs, ns);
}

void TtsCacheLatency::merge(const TtsCacheLatency &other)
{
    for (size_t i = 0; i < buckets.size(); ++i)
        buckets[i] += other.buckets[i];
    count += other.count;
    sumNs += other.sumNs;
    maxNs = std::max(maxNs, other.maxNs);
}

double TtsCacheLatency::quantileUs(double q) const
{
    if (!count)
        return 0.0;
    const auto rank = quint64(std::ceil(q * double(count)));
    quint64 seen = 0;
    for (size_t i = 0; i < kBoundsUs.size(); ++i) {
        seen += buckets[i];
        if (seen >= rank)
            return std::min(double(kBoundsUs[i]), double(maxNs) / 1e3);
    }
    return double(maxNs) / 1e3;
}

QJsonObject TtsCacheLatency::toJson() const
{
    return QJsonObject{{QStringLiteral("count"), double(count)},
                       {QStringLiteral("p50Us"), quantileUs(0.50)},
                       {QStringLiteral("p99Us"), quantileUs(0.99)},
                       {QStringLiteral("meanUs"), meanUs()},
                       {QStringLiteral("maxUs"), double(maxNs) / 1e3}};
}

void TtsCacheTenantStats::merge(const TtsCacheTenantStats &o)
{
    memoryHits += o.memoryHits;
    redisHits += o.redisHits;
    misses += o.misses;
    coalesced += o.coalesced;
    redisErrors += o.redisErrors;
    bytesServed += o.bytesServed;
    bytesStored += o.bytesStored;
    prewarmLookups += o.prewarmLookups;
    prewarmHits += o.prewarmHits;
    memoryHitLatency.merge(o.memoryHitLatency);
    redisHitLatency.merge(o.redisHitLatency);
    missLatency.merge(o.missLatency);
}

QJsonObject TtsCacheTenantStats::toJson() const
{
    return QJsonObject{{QStringLiteral("memoryHits"), double(memoryHits)},
                       {QStringLiteral("redisHits"), double(redisHits)},
                       {QStringLiteral("misses"), double(misses)},
                       {QStringLiteral("coalesced"), double(coalesced)},
                       {QStringLiteral("redisErrors"), double(redisErrors)},
                       {QStringLiteral("hitRatio"), hitRatio()},
                       {QStringLiteral("bytesServed"), double(bytesServed)},
                       {QStringLiteral("bytesStored"), double(bytesStored)},
                       {QStringLiteral("prewarmLookups"), double(prewarmLookups)},
                       {QStringLiteral("prewarmHits"), double(prewarmHits)},
                       {QStringLiteral("memoryHitLatency"), memoryHitLatency.toJson()},
                       {QStringLiteral("redisHitLatency"), redisHitLatency.toJson()},
                       {QStringLiteral("missLatency"), missLatency.toJson()}};
}

TtsCacheTenantStats TtsCacheStats::total() const
{
    TtsCacheTenantStats sum;
    for (const auto &t : tenants)
        sum.merge(t);
    return sum;
}

QJsonObject TtsCacheStats::toJson() const
{
    QJsonObject perTenant;
    for (auto it = tenants.cbegin(); it != tenants.cend(); ++it)
        perTenant.insert(it.key(), it.value().toJson());
    return QJsonObject{
        {QStringLiteral("memory"),
         QJsonObject{{QStringLiteral("usedBytes"), double(memoryUsedBytes)},
                     {QStringLiteral("budgetBytes"), double(memoryBudgetBytes)},
                     {QStringLiteral("entries"), double(memoryEntries)},
                     {QStringLiteral("evictions"), double(memoryEvictions)}}},
        {QStringLiteral("redis"),
         QJsonObject{{QStringLiteral("configured"), redisConfigured},
                     {QStringLiteral("connected"), redisConnected},
                     {QStringLiteral("writes"), double(redisWrites)},
                     {QStringLiteral("writeErrors"), double(redisWriteErrors)},
                     {QStringLiteral("writesSkipped"), double(redisWritesSkipped)}}},
        {QStringLiteral("total"), total().toJson()},
        {QStringLiteral("tenants"), perTenant}};
}

} // namespace apex
