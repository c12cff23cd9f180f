#pragma once

#include "history/historyrecords.h"
#include "history/historyurl.h"

#include <QDate>

#include <QIODevice>
#include <QList>

namespace apex {

// A tenant's conversations as files an auditor or a spreadsheet reads.
enum class HistoryExportFormat { Jsonl, Csv };

class HistoryExport
{
public:
    // One JSON object per line: a conversation with its turns nested.
    static void writeJsonl(const QList<HistoryConversation> &conversations, QIODevice &out);
    // A header line, then one row per turn (a conversation without turns
    // gets one row with empty turn columns); RFC 4180 quoting.
    static void writeCsv(const QList<HistoryConversation> &conversations, QIODevice &out);
    static QStringList csvHeader();
    static QJsonObject toJson(const HistoryConversation &conversation);

    // `apex-engine --export`: reads the tenant's conversations started on the
    // days from..to (UTC, inclusive) from a store of its own and writes them.
    static bool run(const HistoryUrl &url, const QString &tenantId, QDate from, QDate to, HistoryExportFormat format,
                    QIODevice &out, QString *error);
};

} // namespace apex
