#include "history/historyexport.h"

#include "history/sqlhistorystore.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace apex {

namespace {

QString isoTime(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODateWithMs) : QString();
}

QByteArray csvField(const QString &value)
{
    QByteArray bytes = value.toUtf8();
    if (bytes.contains(',') || bytes.contains('"') || bytes.contains('\n') || bytes.contains('\r')) {
        bytes.replace("\"", "\"\"");
        return '"' + bytes + '"';
    }
    return bytes;
}

void writeCsvLine(const QStringList &fields, QIODevice &out)
{
    QByteArray line;
    for (int i = 0; i < fields.size(); ++i) {
        if (i > 0)
            line += ',';
        line += csvField(fields[i]);
    }
    line += "\r\n";
    out.write(line);
}

} // namespace

QJsonObject HistoryExport::toJson(const HistoryConversation &c)
{
    QJsonArray turns;
    for (const auto &t : c.turns) {
        turns.append(QJsonObject{{QStringLiteral("turn"), t.index},
                                 {QStringLiteral("endedAt"), isoTime(t.endedAt)},
                                 {QStringLiteral("caller"), t.callerText},
                                 {QStringLiteral("agent"), t.agentReply},
                                 {QStringLiteral("heard"), t.agentHeard},
                                 {QStringLiteral("trace"), t.trace},
                                 {QStringLiteral("providers"), t.providers}});
    }
    return QJsonObject{{QStringLiteral("tenant"), c.tenantId},
                       {QStringLiteral("id"), c.conversationId},
                       {QStringLiteral("channel"), historyChannelName(c.channel)},
                       {QStringLiteral("peer"), c.peer},
                       {QStringLiteral("startedAt"), isoTime(c.startedAt)},
                       {QStringLiteral("endedAt"), isoTime(c.endedAt)},
                       {QStringLiteral("durationMs"), double(c.durationMs())},
                       {QStringLiteral("endReason"), c.endReason},
                       {QStringLiteral("turns"), turns}};
}

void HistoryExport::writeJsonl(const QList<HistoryConversation> &conversations, QIODevice &out)
{
    for (const auto &c : conversations)
        out.write(QJsonDocument(toJson(c)).toJson(QJsonDocument::Compact) + '\n');
}

QStringList HistoryExport::csvHeader()
{
    return {QStringLiteral("tenant"),      QStringLiteral("id"),          QStringLiteral("channel"),
            QStringLiteral("peer"),        QStringLiteral("started_at"),  QStringLiteral("ended_at"),
            QStringLiteral("duration_ms"), QStringLiteral("end_reason"),  QStringLiteral("turn"),
            QStringLiteral("turn_ended_at"), QStringLiteral("caller"),    QStringLiteral("agent"),
            QStringLiteral("heard"),       QStringLiteral("trace"),       QStringLiteral("providers")};
}

void HistoryExport::writeCsv(const QList<HistoryConversation> &conversations, QIODevice &out)
{
    writeCsvLine(csvHeader(), out);
    for (const auto &c : conversations) {
        const QStringList head{c.tenantId, c.conversationId, historyChannelName(c.channel), c.peer,
                               isoTime(c.startedAt), isoTime(c.endedAt), QString::number(c.durationMs()), c.endReason};
        if (c.turns.isEmpty()) {
            writeCsvLine(head + QStringList{QString(), QString(), QString(), QString(), QString(), QString(), QString()}, out);
            continue;
        }
        for (const auto &t : c.turns) {
            writeCsvLine(head + QStringList{QString::number(t.index), isoTime(t.endedAt), t.callerText, t.agentReply, t.agentHeard,
                                            QString::fromUtf8(QJsonDocument(t.trace).toJson(QJsonDocument::Compact)),
                                            QString::fromUtf8(QJsonDocument(t.providers).toJson(QJsonDocument::Compact))},
                         out);
        }
    }
}

bool HistoryExport::run(const HistoryUrl &url, const QString &tenantId, QDate from, QDate to, HistoryExportFormat format,
                        QIODevice &out, QString *error)
{
    SqlHistoryStore store(url, QStringLiteral("apex-history-export"));
    if (!store.open(error))
        return false;
    const QList<HistoryConversation> conversations = store.conversations(tenantId, from, to, error);
    if (!error->isEmpty())
        return false;
    if (format == HistoryExportFormat::Jsonl)
        writeJsonl(conversations, out);
    else
        writeCsv(conversations, out);
    return true;
}

} // namespace apex
