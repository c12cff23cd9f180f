#pragma once

#include "history/historystore.h"
#include "history/historyurl.h"

#include <QSqlDatabase>

namespace apex {

// The history in SQLite (one file, WAL) or PostgreSQL (several engine nodes),
// both through QtSql with the same portable SQL: BIGINT epoch milliseconds,
// TEXT JSON, and INSERT ... ON CONFLICT upserts (SQLite 3.24+, PostgreSQL 9.5+).
class SqlHistoryStore : public HistoryStore
{
public:
    static constexpr int kSchemaVersion = 1;

    // connectionName must be unique in the process (QtSql's registry).
    SqlHistoryStore(HistoryUrl url, QString connectionName);
    ~SqlHistoryStore() override;

    bool open(QString *error) override;
    bool write(const QList<HistoryRow> &rows, QString *error) override;
    int deleteBefore(const QString &tenantId, const QDateTime &cutoff, QString *error) override;
    QList<HistoryConversation> conversations(const QString &tenantId, QDate from, QDate to, QString *error) override;
    QList<HistoryConversation> recentCalls(const QString &tenantId, int limit, QString *error) override;

    bool isOpen() const;
    void close();

private:
    bool migrate(QString *error);
    bool writeRow(const HistoryRow &row, QString *error);
    QList<HistoryConversation> readConversations(const QString &where, const QVariantList &values, QString *error);
    bool readTurns(HistoryConversation &conversation, QString *error);

    HistoryUrl m_url;
    QString m_connectionName;
};

} // namespace apex
