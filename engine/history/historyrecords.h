#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace apex {

// What the history keeps of one call or chat and its turns. Times are UTC; no
// field ever holds a key or token.
enum class HistoryChannel { Call, WhatsApp };
QString historyChannelName(HistoryChannel channel); // "call" | "whatsapp": stored and exported
HistoryChannel historyChannelFromName(const QString &name);

struct HistoryTurn
{
    int index = 0;
    QDateTime endedAt;
    QString callerText;  // the caller's final transcript (a chat: the user's messages)
    QString agentReply;  // what the agent generated
    QString agentHeard;  // what the caller heard of it: the whole reply unless cut by a barge-in
    QJsonObject trace;   // TurnTrace::toJson(): stage timings in ms, barge-in decisions, tokens
    QJsonObject providers; // which provider answered each stage and the fallbacks taken, where known
};

struct HistoryConversation
{
    QString tenantId;
    QString conversationId; // a call's id, or a chat's id and the moment its conversation began
    HistoryChannel channel = HistoryChannel::Call;
    QString peer;           // the caller's number, or the WhatsApp chat id
    QDateTime startedAt;
    QDateTime endedAt;      // null while live; a chat: its last turn
    QString endReason;      // caller_hung_up, agent_hung_up, ...; empty while live and for chats
    QList<HistoryTurn> turns;

    qint64 durationMs() const { return startedAt.isValid() && endedAt.isValid() ? startedAt.msecsTo(endedAt) : -1; }
};

// One change for the writer to apply. Each is idempotent (an upsert), so a
// batch retried after a failed commit changes nothing twice.
struct HistoryRow
{
    enum class Kind { Started, Turn, Ended };
    Kind kind = Kind::Turn;
    QString tenantId;
    QString conversationId;
    HistoryChannel channel = HistoryChannel::Call;
    QString peer;
    QDateTime at;
    QString endReason; // Ended
    HistoryTurn turn;  // Turn
};

} // namespace apex
