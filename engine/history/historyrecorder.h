#pragma once

#include "history/historywriter.h"
#include "observability/turntrace.h"

#include <QHash>
#include <QJsonObject>
#include <QString>

#include <memory>

namespace apex {

class PrometheusText;

// The engine thread's side of the history: turns what calls and chats do
// into rows for the HistoryWriter. Cheap and non-blocking: each method builds
// a row and queues it. Lives on the engine thread.
class HistoryRecorder
{
public:
    explicit HistoryRecorder(HistoryWriter::Settings settings);
    ~HistoryRecorder(); // commits what is queued

    void callStarted(const QString &tenantId, const QString &callId, const QString &callerNumber);
    // `providers`: the stages' providers as chosen for the call's tenant.
    void turnEnded(const QString &tenantId, const QString &callId, const TurnTrace &trace, const QJsonObject &providers);
    void callEnded(const QString &tenantId, const QString &callId, const QString &endReason);
    // A chat has no start or end: its history is one conversation per chat
    // for as long as this engine runs, numbered from the first message seen.
    void chatTurn(const QString &tenantId, const QString &chatId, const QString &userText, const QString &reply,
                  const QJsonObject &providers);

    void setRetentionDays(const QHash<QString, int> &days) { m_writer->setRetentionDays(days); }
    HistoryWriter &writer() { return *m_writer; }
    QJsonObject stats() const;
    void appendMetrics(PrometheusText &out) const;

private:
    struct Chat
    {
        QString conversationId;
        int nextTurn = 1;
    };
    std::unique_ptr<HistoryWriter> m_writer;
    QHash<QString, Chat> m_chats; // tenant + chat id
};

} // namespace apex
