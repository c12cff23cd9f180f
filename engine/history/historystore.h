#pragma once

#include "history/historyrecords.h"

#include <QDate>
#include <QList>
#include <QString>

namespace apex {

// Where calls and chats are kept, per tenant. Every read and delete takes the
// tenant and filters by it: no method can return or touch another tenant's rows.
//
// Contract: blocking, and one thread per instance (a QtSql connection belongs
// to the thread that opened it). The engine only ever uses it from the
// HistoryWriter's thread; the exporter and the console use their own instance.
class HistoryStore
{
public:
    virtual ~HistoryStore() = default;

    // Connects and brings the schema to the current version.
    virtual bool open(QString *error) = 0;
    // Applies the rows in one transaction: all or none.
    virtual bool write(const QList<HistoryRow> &rows, QString *error) = 0;
    // Deletes the tenant's conversations (and their turns) last active before
    // cutoff. Returns how many conversations went, or -1 on error.
    virtual int deleteBefore(const QString &tenantId, const QDateTime &cutoff, QString *error) = 0;
    // The tenant's conversations started on the days from..to (UTC, inclusive),
    // oldest first, with their turns.
    virtual QList<HistoryConversation> conversations(const QString &tenantId, QDate from, QDate to, QString *error) = 0;
    // The tenant's latest conversations, newest first, with their turns: what
    // the console's calls list will read.
    virtual QList<HistoryConversation> recentCalls(const QString &tenantId, int limit, QString *error) = 0;
};

} // namespace apex
