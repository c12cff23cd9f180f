#include "store/memorysessionstore.h"

#include "observability/clock.h"
#include "store/rediskeys.h"

namespace apex {

namespace {

// Expired entries are only unreachable, not gone, until a sweep; sweeping on
// every save would make a save O(sessions).
constexpr qint64 sweepIntervalMs = 60'000;

} // namespace

MemorySessionStore::MemorySessionStore(std::chrono::seconds ttl, Clock clock, QObject *parent)
    : QObject(parent)
    , m_ttl(ttl)
    , m_clock(clock ? std::move(clock) : Clock([] { return monotonicNowNs() / 1'000'000; }))
{
    m_lastSweepMs = m_clock();
}

void MemorySessionStore::save(const SessionRecord &record, std::function<void(bool ok)> done)
{
    const QByteArray key = RedisKeys::sessionKey(record.tenantId, record.kind, record.id);
    const bool ok = !key.isEmpty();
    if (ok) {
        const qint64 nowMs = m_clock();
        if (nowMs - m_lastSweepMs >= sweepIntervalMs)
            sweep(nowMs);
        Entry entry{record, nowMs + qint64(m_ttl.count()) * 1000};
        // Same normalisation as the Redis store's JSON round trip.
        const QDateTime now = QDateTime::currentDateTimeUtc();
        entry.record.createdAt = record.createdAt.isValid() ? record.createdAt.toUTC() : now;
        entry.record.updatedAt = record.updatedAt.isValid() ? record.updatedAt.toUTC() : now;
        m_entries.insert(key, std::move(entry));
    }
    if (done)
        QMetaObject::invokeMethod(this, [done = std::move(done), ok] { done(ok); }, Qt::QueuedConnection);
}

void MemorySessionStore::load(const QString &tenantId, const QString &kind, const QString &id,
                              std::function<void(std::optional<SessionRecord>)> done)
{
    std::optional<SessionRecord> result;
    const QByteArray key = RedisKeys::sessionKey(tenantId, kind, id);
    const auto it = m_entries.constFind(key);
    if (!key.isEmpty() && it != m_entries.constEnd()) {
        if (it->expiresAtMs > m_clock())
            result = it->record;
        else
            m_entries.erase(it);
    }
    if (done)
        QMetaObject::invokeMethod(this, [done = std::move(done), result = std::move(result)] { done(result); },
                                  Qt::QueuedConnection);
}

void MemorySessionStore::sweep(qint64 nowMs)
{
    m_lastSweepMs = nowMs;
    m_entries.removeIf([nowMs](const QHash<QByteArray, Entry>::iterator &it) { return it->expiresAtMs <= nowMs; });
}

} // namespace apex
