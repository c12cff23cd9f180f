#pragma once

#include "llm/responder.h"
#include "observability/logging.h"
#include "tenancy/tenantregistry.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>

namespace apex {

class SessionStore;

namespace waha {

// One WhatsApp chat with one tenant: what the user wrote since the last
// reply, the conversation so far (the tenant's last N exchanges, kept in the
// session store under apex:{tenant}:session:chat:{chatId} with its TTL
// restarted by every reply), and the reply being written.
//
// Messages are answered in order, one reply at a time. Texts that arrive
// while a reply is being written wait, and are answered together by the next
// reply, as one utterance, one line each: people send "hi" and "are you open
// today?" as two messages and expect one answer, and each reply is then
// written knowing everything the user said before it. A voice note or image
// gets the tenant's polite line, in its place in the order.
//
// The history is read from the store before every reply, so a restarted
// engine, or another node sharing Redis, carries on the same conversation; if
// the store has nothing (Redis down, first message) the in-memory copy is used.
class ChatConversation : public QObject
{
    Q_OBJECT
public:
    struct Services
    {
        ResponderFactory *responders = nullptr;
        SessionStore *sessions = nullptr; // optional
        int replyDeadlineMs = 60000;
        int maxPendingMessages = 20; // beyond it the oldest waiting text is dropped
    };

    ChatConversation(TenantPtr tenant, QString session, QString chatId, Services services, QObject *parent = nullptr);
    ~ChatConversation() override;

    // An incoming text to answer.
    void receiveText(const QString &text);
    // A voice note, image or other non-text message.
    void receiveNotText();

    bool isIdle() const { return !m_busy && m_pending.isEmpty(); }
    const TenantPtr &tenant() const { return m_tenant; }
    QString session() const { return m_session; }
    QString chatId() const { return m_chatId; }
    const QList<ConversationTurn> &history() const { return m_history; }

Q_SIGNALS:
    // A reply for the chat, whole (the outbox splits it for WhatsApp).
    void replyReady(const QString &text);
    void typingChanged(bool typing);
    // One exchange done: what the user said (joined) and what was answered.
    void turnCompleted(const QString &userText, const QString &reply, bool answeredByFallbackLine);

private:
    struct Pending
    {
        bool isText = true;
        QString text;
    };

    void next();
    void startReply(const QString &utterance);
    void generate();
    void finishReply(const QString &reply, bool fallbackLine);
    void appendHistory(ConversationTurn::Role role, const QString &text);
    void saveHistory();

    TenantPtr m_tenant;
    QString m_session;
    QString m_chatId;
    Services m_services;
    log::CallLogger m_log;
    QList<Pending> m_pending;
    QList<ConversationTurn> m_history;
    QDateTime m_createdAt;
    bool m_busy = false;
    QString m_utterance;
    QString m_reply;
    std::unique_ptr<Responder> m_responder;
    QTimer m_deadline;
    quint64 m_generation = 0; // stale store callbacks and responders check it
};

} // namespace waha
} // namespace apex
