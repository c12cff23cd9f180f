#pragma once

#include "ttscache/ttscachekey.h"
#include "ttscache/ttscachememory.h"
#include "ttscache/ttscachestats.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMetaObject>
#include <QMutex>
#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace apex {

class RedisClient;
struct Tenant;

// Synthesised sentences in two tiers: an in-process LRU (TtsCacheMemory) and,
// when a RedisClient is given, Redis shared by every engine node. Values are the
// 8 kHz mu-law bytes exactly as the caller hears them.
//
// Redis is an optimisation, never a dependency: while it is down, slow or absent
// lookups answer from memory or report a miss (the caller synthesises), and
// write-backs are dropped. A Redis lookup waits at most redisLookupTimeoutMs.
//
// Thread-safety: every method may be called from any thread. Redis commands are
// sent on the client's thread (hopping there with a queued call when the caller
// is elsewhere) and answers come back on the caller's thread. The RedisClient
// must outlive the cache or be unset with setRedisClient(nullptr) first.
class TtsCache
{
public:
    struct Settings
    {
        qint64 memoryBudgetBytes = TtsCacheMemory::kDefaultBudgetBytes;
        int defaultTtlSeconds = 86400;  // Redis TTL for tenants without their own
        int redisLookupTimeoutMs = 100; // then the lookup is a miss: a hung Redis must not hold a call
        qint64 maxValueBytes = 4 * 1024 * 1024; // larger Redis values are ignored (not ours, or corrupt)
    };
    enum class Tier { Memory, Redis, Miss };
    // Prewarm lookups are counted apart from calls (see TtsCacheTenantStats).
    enum class Purpose { Call, Prewarm };
    struct LookupResult
    {
        Tier tier = Tier::Miss;
        QByteArray audio; // empty on a miss
    };
    using LookupCallback = std::function<void(const LookupResult &result)>;

    TtsCache();
    explicit TtsCache(Settings settings);
    ~TtsCache();
    TtsCache(const TtsCache &) = delete;
    TtsCache &operator=(const TtsCache &) = delete;

    // Null: memory only. Safe to change at any time; lookups already sent finish
    // against the old client.
    void setRedisClient(RedisClient *client);
    // Configured and last seen connected.
    bool isRedisAvailable() const;

    // Redis TTL per tenant (Tenant::ttsCacheTtlSeconds); ≤ 0 resets to the default.
    void setTenantTtlSeconds(const QString &tenantId, int ttlSeconds);
    void configureTenants(const QList<Tenant> &tenants);
    int ttlSecondsFor(const QString &tenantId) const;

    // Memory tier only, synchronous, counted as a lookup (a miss here is
    // counted as one: use lookup() for the two-tier answer).
    std::optional<QByteArray> lookupMemory(const TtsCacheKey &key, Purpose purpose = Purpose::Call);

    // Memory, then Redis. `callback` runs exactly once on the calling thread:
    // synchronously for a memory hit or when Redis is not usable, otherwise from
    // the event loop (so the calling thread needs one) within the lookup
    // timeout. It never runs once `context` is destroyed; `context` lives on the
    // calling thread (null: memory only). A Redis hit is copied into memory so
    // the next lookup is a memory hit.
    void lookup(const TtsCacheKey &key, QObject *context, LookupCallback callback, Purpose purpose = Purpose::Call);

    // Write-back of a complete synthesis: memory, and Redis (SET key value EX
    // ttl) when it is up. Empty audio is never stored.
    void store(const TtsCacheKey &key, const QByteArray &audio);

    // `done` runs on the calling thread (from the event loop, `context` alive)
    // once every write-back sent before this call has been answered by Redis,
    // or at once when Redis is absent or down, or after timeoutMs. Lets a
    // headless pre-warm quit without losing its last writes.
    void whenWritesFlushed(QObject *context, std::function<void()> done, int timeoutMs = 2000);

    // A miss that was served by a synthesis already under way for the same key.
    void noteCoalesced(const QString &tenantId);

    void clearMemory() { m_memory.clear(); }
    TtsCacheMemory &memory() { return m_memory; }
    const Settings &settings() const { return m_settings; }

    TtsCacheStats stats() const;
    void resetStats();

private:
    struct RedisCounters
    {
        std::atomic<quint64> writes{0};
        std::atomic<quint64> writeErrors{0};
        std::atomic<quint64> writesSkipped{0};
    };

    RedisClient *redisClient() const;
    void lookupRedis(RedisClient *client, const TtsCacheKey &key, QObject *context, LookupCallback callback,
                     Purpose purpose, qint64 startNs);
    void finishLookup(const TtsCacheKey &key, Purpose purpose, Tier tier, qint64 elapsedNs, qint64 bytes,
                      bool redisError = false);

    const Settings m_settings;
    TtsCacheMemory m_memory;

    mutable QMutex m_mutex; // guards everything below except the atomics
    RedisClient *m_redis = nullptr;
    QMetaObject::Connection m_redisStateConnection;
    QHash<QString, int> m_ttlSeconds;
    QMap<QString, TtsCacheTenantStats> m_stats;

    std::shared_ptr<std::atomic_bool> m_redisUp = std::make_shared<std::atomic_bool>(false);
    std::shared_ptr<RedisCounters> m_redisCounters = std::make_shared<RedisCounters>();
};

} // namespace apex
