#include "ttscache/ttscache.h"

#include "observability/clock.h"
#include "observability/logging.h"
#include "store/redisclient.h"
#include "tenancy/tenant.h"

#include <QMutexLocker>
#include <QPointer>
#include <QThread>
#include <QTimer>

namespace apex {

namespace {

// Carries one Redis answer from the client's thread to a caller on another
// thread. The queued connection to the caller's context is what makes this
// safe: if the context dies first, Qt drops the connection and its pending
// events, so the client's thread never holds a pointer to the caller.
class RedisReplyRelay : public QObject
{
    Q_OBJECT
public:
    ~RedisReplyRelay() override
    {
        // The client dropped the command unanswered (it was destroyed): the
        // caller's timeout would cover it, but telling it now is cheaper.
        if (!m_answered)
            Q_EMIT replied(int(RedisReply::Type::Disconnected), {});
    }
    void answer(const RedisReply &reply)
    {
        m_answered = true;
        Q_EMIT replied(int(reply.type), reply.string);
    }

Q_SIGNALS:
    void replied(int type, const QByteArray &value);

private:
    bool m_answered = false;
};

// Sends argv on the client's thread; `onReply` runs on the calling thread with
// `context` alive, or not at all.
void sendOnClientThread(RedisClient *client, const QList<QByteArray> &argv, QObject *context,
                        std::function<void(const RedisReply &)> onReply)
{
    if (client->thread() == QThread::currentThread()) {
        client->command(argv, [guard = QPointer<QObject>(context), onReply](const RedisReply &reply) {
            if (guard && onReply)
                onReply(reply);
        });
        return;
    }
    auto *relay = new RedisReplyRelay;
    if (context && onReply) {
        QObject::connect(relay, &RedisReplyRelay::replied, context, [onReply](int type, const QByteArray &value) {
            RedisReply reply;
            reply.type = RedisReply::Type(type);
            reply.string = value;
            onReply(reply);
        }, Qt::QueuedConnection);
    }
    relay->moveToThread(client->thread());
    QMetaObject::invokeMethod(relay, [relay, client, argv] {
        relay->setParent(client); // dies with the client if the answer never comes
        client->command(argv, [relay](const RedisReply &reply) {
            relay->answer(reply);
            delete relay;
        });
    }, Qt::QueuedConnection);
}

} // namespace

TtsCache::TtsCache()
    : TtsCache(Settings{})
{
}

TtsCache::TtsCache(Settings settings)
    : m_settings(settings)
    , m_memory(settings.memoryBudgetBytes)
{
}

TtsCache::~TtsCache()
{
    setRedisClient(nullptr);
}

void TtsCache::setRedisClient(RedisClient *client)
{
    QMutexLocker lock(&m_mutex);
    QObject::disconnect(m_redisStateConnection);
    m_redis = client;
    if (!client) {
        m_redisUp->store(false);
        return;
    }
    m_redisUp->store(client->isConnected());
    // Direct: runs on the client's thread and only touches the shared flag, so
    // a lookup on any thread can skip a Redis that is down without asking it.
    m_redisStateConnection = QObject::connect(client, &RedisClient::stateChanged, client,
                                              [up = m_redisUp](RedisClient::State state) {
                                                  up->store(state == RedisClient::State::Connected);
                                              });
}

RedisClient *TtsCache::redisClient() const
{
    QMutexLocker lock(&m_mutex);
    return m_redis;
}

bool TtsCache::isRedisAvailable() const
{
    return redisClient() && m_redisUp->load();
}

void TtsCache::setTenantTtlSeconds(const QString &tenantId, int ttlSeconds)
{
    QMutexLocker lock(&m_mutex);
    if (ttlSeconds > 0)
        m_ttlSeconds.insert(tenantId, ttlSeconds);
    else
        m_ttlSeconds.remove(tenantId);
}

void TtsCache::configureTenants(const QList<Tenant> &tenants)
{
    for (const Tenant &t : tenants)
        setTenantTtlSeconds(t.id, t.ttsCacheTtlSeconds);
}

int TtsCache::ttlSecondsFor(const QString &tenantId) const
{
    QMutexLocker lock(&m_mutex);
    return m_ttlSeconds.value(tenantId, m_settings.defaultTtlSeconds);
}

std::optional<QByteArray> TtsCache::lookupMemory(const TtsCacheKey &key, Purpose purpose)
{
    const qint64 start = monotonicNowNs();
    std::optional<QByteArray> audio = key.isValid() ? m_memory.find(key.digestHex) : std::nullopt;
    finishLookup(key, purpose, audio ? Tier::Memory : Tier::Miss, monotonicNowNs() - start, audio ? audio->size() : 0);
    return audio;
}

void TtsCache::lookup(const TtsCacheKey &key, QObject *context, LookupCallback callback, Purpose purpose)
{
    const qint64 start = monotonicNowNs();
    if (key.isValid()) {
        if (std::optional<QByteArray> audio = m_memory.find(key.digestHex)) {
            finishLookup(key, purpose, Tier::Memory, monotonicNowNs() - start, audio->size());
            callback(LookupResult{Tier::Memory, *audio});
            return;
        }
        RedisClient *client = redisClient();
        if (client && context && m_redisUp->load() && !key.redisKey.isEmpty()) {
            lookupRedis(client, key, context, std::move(callback), purpose, start);
            return;
        }
    }
    finishLookup(key, purpose, Tier::Miss, monotonicNowNs() - start, 0);
    callback(LookupResult{});
}

void TtsCache::lookupRedis(RedisClient *client, const TtsCacheKey &key, QObject *context, LookupCallback callback,
                           Purpose purpose, qint64 startNs)
{
    // Whichever comes first, the answer or the timeout, settles the lookup.
    auto settled = std::make_shared<bool>(false);
    auto settle = [this, key, purpose, startNs, settled, callback](Tier tier, const QByteArray &audio, bool redisError) {
        if (*settled)
            return;
        *settled = true;
        if (tier == Tier::Redis)
            m_memory.insert(key.digestHex, audio);
        finishLookup(key, purpose, tier, monotonicNowNs() - startNs, audio.size(), redisError);
        callback(LookupResult{tier, audio});
    };
    QTimer::singleShot(m_settings.redisLookupTimeoutMs, context, [settle] { settle(Tier::Miss, {}, true); });
    const qint64 maxBytes = m_settings.maxValueBytes;
    sendOnClientThread(client, {QByteArrayLiteral("GET"), key.redisKey}, context,
                       [settle, maxBytes](const RedisReply &reply) {
                           if (reply.type == RedisReply::Type::String && !reply.string.isEmpty()
                               && reply.string.size() <= maxBytes)
                               settle(Tier::Redis, reply.string, false);
                           else
                               settle(Tier::Miss, {}, reply.type != RedisReply::Type::Nil);
                       });
}

void TtsCache::store(const TtsCacheKey &key, const QByteArray &audio)
{
    if (!key.isValid() || audio.isEmpty() || audio.size() > m_settings.maxValueBytes)
        return;
    m_memory.insert(key.digestHex, audio);
    {
        QMutexLocker lock(&m_mutex);
        m_stats[key.tenantId].bytesStored += quint64(audio.size());
    }
    RedisClient *client = redisClient();
    if (!client || key.redisKey.isEmpty())
        return;
    if (!m_redisUp->load()) {
        ++m_redisCounters->writesSkipped;
        return;
    }
    const QByteArray ttl = QByteArray::number(ttlSecondsFor(key.tenantId));
    // The write needs no answer on this thread; counting on the client's thread
    // through the shared counters keeps the cache free of callbacks into itself.
    auto counters = m_redisCounters;
    auto onReply = [counters, redisKey = key.redisKey](const RedisReply &reply) {
        if (reply.isError()) {
            ++counters->writeErrors;
            log::get("tts")->debug("tts cache write-back of {} failed: {}", redisKey, reply.string);
        } else {
            ++counters->writes;
        }
    };
    const QList<QByteArray> argv{QByteArrayLiteral("SET"), key.redisKey, audio, QByteArrayLiteral("EX"), ttl};
    if (client->thread() == QThread::currentThread()) {
        client->command(argv, onReply);
    } else {
        QMetaObject::invokeMethod(client, [client, argv, onReply] { client->command(argv, onReply); },
                                  Qt::QueuedConnection);
    }
}

void TtsCache::whenWritesFlushed(QObject *context, std::function<void()> done, int timeoutMs)
{
    auto settled = std::make_shared<bool>(false);
    auto settle = [settled, done] {
        if (!*settled) {
            *settled = true;
            done();
        }
    };
    RedisClient *client = redisClient();
    if (!client || !m_redisUp->load()) {
        QMetaObject::invokeMethod(context, settle, Qt::QueuedConnection);
        return;
    }
    QTimer::singleShot(timeoutMs, context, settle);
    // Commands on one connection are answered in order: when this PING is, so
    // is every SET queued before it (the hop keeps the order, being queued too).
    sendOnClientThread(client, {QByteArrayLiteral("PING")}, context, [settle](const RedisReply &) { settle(); });
}

void TtsCache::noteCoalesced(const QString &tenantId)
{
    QMutexLocker lock(&m_mutex);
    ++m_stats[tenantId].coalesced;
}

void TtsCache::finishLookup(const TtsCacheKey &key, Purpose purpose, Tier tier, qint64 elapsedNs, qint64 bytes,
                            bool redisError)
{
    QMutexLocker lock(&m_mutex);
    TtsCacheTenantStats &s = m_stats[key.tenantId];
    if (redisError)
        ++s.redisErrors;
    if (purpose == Purpose::Prewarm) {
        ++s.prewarmLookups;
        s.prewarmHits += tier != Tier::Miss;
        return;
    }
    switch (tier) {
    case Tier::Memory:
        ++s.memoryHits;
        s.memoryHitLatency.add(elapsedNs);
        break;
    case Tier::Redis:
        ++s.redisHits;
        s.redisHitLatency.add(elapsedNs);
        break;
    case Tier::Miss:
        ++s.misses;
        s.missLatency.add(elapsedNs);
        break;
    }
    if (tier != Tier::Miss)
        s.bytesServed += quint64(bytes);
}

TtsCacheStats TtsCache::stats() const
{
    TtsCacheStats out;
    {
        QMutexLocker lock(&m_mutex);
        out.tenants = m_stats;
        out.redisConfigured = m_redis != nullptr;
    }
    out.redisConnected = out.redisConfigured && m_redisUp->load();
    out.memoryUsedBytes = m_memory.usedBytes();
    out.memoryBudgetBytes = m_memory.budgetBytes();
    out.memoryEntries = m_memory.entryCount();
    out.memoryEvictions = m_memory.evictions();
    out.redisWrites = m_redisCounters->writes.load();
    out.redisWriteErrors = m_redisCounters->writeErrors.load();
    out.redisWritesSkipped = m_redisCounters->writesSkipped.load();
    return out;
}

void TtsCache::resetStats()
{
    QMutexLocker lock(&m_mutex);
    m_stats.clear();
    m_redisCounters->writes = 0;
    m_redisCounters->writeErrors = 0;
    m_redisCounters->writesSkipped = 0;
}

} // namespace apex

#include "ttscache.moc"
