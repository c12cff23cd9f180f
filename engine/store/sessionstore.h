#pragma once

#include <QDateTime>
#include <QList>
#include <QString>

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

// Asynchronous by contract (a Redis-backed store must not block the engine
// thread); callbacks run on the caller's thread. A memory store answers on the
// next event-loop turn, like the Redis one.
class SessionStore
{
public:
    virtual ~SessionStore() = default;
    // Replaces the record and refreshes its TTL.
    virtual void save(const SessionRecord &record, std::function<void(bool ok)> done = {}) = 0;
    virtual void load(const QString &tenantId, const QString &kind, const QString &id,
                      std::function<void(std::optional<SessionRecord>)> done) = 0;
};

} // namespace apex
