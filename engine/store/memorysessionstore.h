#pragma once

#include "store/sessionstore.h"

#include <QByteArray>
#include <QHash>
#include <QObject>

#include <chrono>
#include <functional>

namespace apex {

// The embedded default: sessions in this process only, with the Redis store's
// semantics (TTL refreshed on save, expiry, validation, next-turn callbacks) so
// the engine behaves the same with or without Redis — minus surviving a restart.
class MemorySessionStore : public QObject, public SessionStore
{
    Q_OBJECT
public:
    // Monotonic milliseconds; injectable so tests can expire sessions without sleeping.
    using Clock = std::function<qint64()>;

    explicit MemorySessionStore(std::chrono::seconds ttl = defaultSessionTtl, Clock clock = {},
                                QObject *parent = nullptr);

    void save(const SessionRecord &record, std::function<void(bool ok)> done = {}) override;
    void load(const QString &tenantId, const QString &kind, const QString &id,
              std::function<void(std::optional<SessionRecord>)> done) override;

    // Entries held, expired ones included until the next sweep.
    qsizetype size() const { return m_entries.size(); }

private:
    struct Entry
    {
        SessionRecord record;
        qint64 expiresAtMs = 0;
    };

    void sweep(qint64 nowMs);

    std::chrono::seconds m_ttl;
    Clock m_clock;
    QHash<QByteArray, Entry> m_entries;
    qint64 m_lastSweepMs = 0;
};

} // namespace apex
