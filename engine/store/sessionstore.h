#pragma once

#include <QDateTime>
#include <QList>
#include <QString>

#include <chrono>
#include <functional>
#include <optional>

namespace apex {

// The conversation state that must outlive a process: a call's or a WhatsApp
// chat's last turns, keyed per tenant (apex:{tenant}:session:{kind}:{id}).
struct SessionRecord
{
    QString tenantId;
    QString kind; // "call" or "chat"
    QString id;   // call id, or the chat's phone number
    struct Turn
    {
        QString role; // "caller" / "agent" (a chat's user is a caller)
        QString text;
    };
    QList<Turn> turns; // oldest first, at most maxTurns exchanges
    QDateTime createdAt;
    QDateTime updatedAt;
};

// How long an untouched session survives; every save starts it again.
inline constexpr std::chrono::seconds defaultSessionTtl{86400};

// Asynchronous by contract (a Redis-backed store must not block the engine
// thread); callbacks run on the caller's thread. A memory store answers on the
// next event-loop turn, like the Redis one. Tenant ids are [A-Za-z0-9_-]{1,64},
// kinds [a-z]{1,16}, ids 1..256 UTF-8 bytes of anything (escaped into the key):
// a save with others reports false, a load answers nullopt. Destroying a store
// drops the callbacks it has not delivered yet.
class SessionStore
{
public:
    virtual ~SessionStore() = default;
    // Replaces the record and refreshes its TTL. An invalid createdAt/updatedAt
    // is stored as "now"; times come back in UTC. false: not stored (invalid
    // record, Redis down or refusing); the caller keeps its in-memory copy.
    virtual void save(const SessionRecord &record, std::function<void(bool ok)> done = {}) = 0;
    // nullopt: unknown, expired, unreadable, or Redis down.
    virtual void load(const QString &tenantId, const QString &kind, const QString &id,
                      std::function<void(std::optional<SessionRecord>)> done) = 0;
};

} // namespace apex
