#include "history/historyrecorder.h"

#include "observability/prometheustext.h"

namespace apex {

HistoryRecorder::HistoryRecorder(HistoryWriter::Settings settings)
    : m_writer(std::make_unique<HistoryWriter>(std::move(settings)))
{
    m_writer->start();
}

HistoryRecorder::~HistoryRecorder() = default;

void HistoryRecorder::callStarted(const QString &tenantId, const QString &callId, const QString &callerNumber)
{
    HistoryRow row;
    row.kind = HistoryRow::Kind::Started;
    row.tenantId = tenantId;
    row.conversationId = callId;
    row.channel = HistoryChannel::Call;
    row.peer = callerNumber;
    row.at = QDateTime::currentDateTimeUtc();
    m_writer->record(std::move(row));
}

void HistoryRecorder::turnEnded(const QString &tenantId, const QString &callId, const TurnTrace &trace, const QJsonObject &providers)
{
    HistoryRow row;
    row.kind = HistoryRow::Kind::Turn;
    row.tenantId = tenantId;
    row.conversationId = callId;
    row.channel = HistoryChannel::Call;
    row.at = QDateTime::currentDateTimeUtc();
    row.turn.index = trace.turnIndex();
    row.turn.endedAt = row.at;
    row.turn.callerText = trace.utterance;
    row.turn.agentReply = trace.reply;
    // replyHeard is set only when a barge-in cut the reply.
    row.turn.agentHeard = trace.has(TurnStage::BargeIn) ? trace.replyHeard : trace.reply;
    row.turn.trace = trace.toJson();
    row.turn.providers = providers;
    m_writer->record(std::move(row));
}

void HistoryRecorder::callEnded(const QString &tenantId, const QString &callId, const QString &endReason)
{
    HistoryRow row;
    row.kind = HistoryRow::Kind::Ended;
    row.tenantId = tenantId;
    row.conversationId = callId;
    row.channel = HistoryChannel::Call;
    row.at = QDateTime::currentDateTimeUtc();
    row.endReason = endReason;
    m_writer->record(std::move(row));
}

void HistoryRecorder::chatTurn(const QString &tenantId, const QString &chatId, const QString &userText, const QString &reply,
                               const QJsonObject &providers)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    Chat &chat = m_chats[tenantId + QLatin1Char('\n') + chatId];
    if (chat.conversationId.isEmpty())
        chat.conversationId = QStringLiteral("%1@%2").arg(chatId, now.toString(Qt::ISODateWithMs));
    HistoryRow row;
    row.kind = HistoryRow::Kind::Turn;
    row.tenantId = tenantId;
    row.conversationId = chat.conversationId;
    row.channel = HistoryChannel::WhatsApp;
    row.peer = chatId;
    row.at = now;
    row.turn.index = chat.nextTurn++;
    row.turn.endedAt = now;
    row.turn.callerText = userText;
    row.turn.agentReply = reply;
    row.turn.agentHeard = reply; // a chat's reply is read whole
    row.turn.providers = providers;
    m_writer->record(std::move(row));
}

QJsonObject HistoryRecorder::stats() const
{
    return QJsonObject{{QStringLiteral("url"), m_writer->display()},
                       {QStringLiteral("healthy"), m_writer->isHealthy()},
                       {QStringLiteral("rowsWritten"), double(m_writer->written())},
                       {QStringLiteral("rowsDropped"), double(m_writer->dropped())},
                       {QStringLiteral("rowsQueued"), m_writer->queued()},
                       {QStringLiteral("failedCommits"), double(m_writer->failedCommits())}};
}

void HistoryRecorder::appendMetrics(PrometheusText &out) const
{
    out.family(QStringLiteral("apex_history_rows_written_total"), "counter", QStringLiteral("Rows committed to the call and chat history."));
    out.sample(QStringLiteral("apex_history_rows_written_total"), double(m_writer->written()));
    out.family(QStringLiteral("apex_history_rows_dropped_total"), "counter",
               QStringLiteral("History rows dropped because the queue was full (database down or slow)."));
    out.sample(QStringLiteral("apex_history_rows_dropped_total"), double(m_writer->dropped()));
    out.family(QStringLiteral("apex_history_rows_queued"), "gauge", QStringLiteral("History rows waiting for the database."));
    out.sample(QStringLiteral("apex_history_rows_queued"), m_writer->queued());
    out.family(QStringLiteral("apex_history_up"), "gauge", QStringLiteral("1 when the history database took the last batch."));
    out.sample(QStringLiteral("apex_history_up"), m_writer->isHealthy() ? 1 : 0);
}

} // namespace apex
