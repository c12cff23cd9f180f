#include "history/sqlhistorystore.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace apex {

namespace {

QString sqlError(const QSqlError &error)
{
    // Driver text only: QtSql never puts the connection's password in it.
    return error.text().trimmed();
}

QVariant epochMs(const QDateTime &time)
{
    return time.isValid() ? QVariant(time.toMSecsSinceEpoch()) : QVariant(QMetaType::fromType<qint64>());
}

QDateTime fromEpochMs(const QVariant &value)
{
    return value.isNull() ? QDateTime() : QDateTime::fromMSecsSinceEpoch(value.toLongLong(), Qt::UTC);
}

// Empty, not NULL: the text columns are NOT NULL.
QVariant text(const QString &value)
{
    return value.isNull() ? QVariant(QStringLiteral("")) : QVariant(value);
}

QString jsonText(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

QJsonObject jsonObject(const QVariant &value)
{
    return QJsonDocument::fromJson(value.toString().toUtf8()).object();
}

// DDL and pragmas: PostgreSQL cannot PREPARE them, so they go as plain text.
bool execText(QSqlQuery &query, const QString &sql, QString *error)
{
    if (query.exec(sql))
        return true;
    *error = sqlError(query.lastError());
    return false;
}

bool exec(QSqlQuery &query, QString *error)
{
    if (query.exec())
        return true;
    *error = sqlError(query.lastError());
    return false;
}

// Version 1. Text and JSON as TEXT, times as epoch ms: the same DDL runs on both.
const char *const kSchemaV1[] = {
    "CREATE TABLE IF NOT EXISTS conversations ("
    " tenant_id TEXT NOT NULL, conversation_id TEXT NOT NULL, channel TEXT NOT NULL, peer TEXT NOT NULL,"
    " started_at BIGINT NOT NULL, ended_at BIGINT, end_reason TEXT,"
    " PRIMARY KEY (tenant_id, conversation_id))",
    "CREATE INDEX IF NOT EXISTS conversations_by_start ON conversations (tenant_id, started_at)",
    "CREATE TABLE IF NOT EXISTS turns ("
    " tenant_id TEXT NOT NULL, conversation_id TEXT NOT NULL, turn_index INTEGER NOT NULL, ended_at BIGINT NOT NULL,"
    " caller_text TEXT NOT NULL, agent_reply TEXT NOT NULL, agent_heard TEXT NOT NULL,"
    " trace_json TEXT NOT NULL, providers_json TEXT NOT NULL,"
    " PRIMARY KEY (tenant_id, conversation_id, turn_index))",
};

} // namespace

QString historyChannelName(HistoryChannel channel)
{
    return channel == HistoryChannel::WhatsApp ? QStringLiteral("whatsapp") : QStringLiteral("call");
}

HistoryChannel historyChannelFromName(const QString &name)
{
    return name == QLatin1String("whatsapp") ? HistoryChannel::WhatsApp : HistoryChannel::Call;
}

SqlHistoryStore::SqlHistoryStore(HistoryUrl url, QString connectionName)
    : m_url(std::move(url)), m_connectionName(std::move(connectionName))
{
}

SqlHistoryStore::~SqlHistoryStore() { close(); }

bool SqlHistoryStore::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName) && QSqlDatabase::database(m_connectionName, false).isOpen();
}

void SqlHistoryStore::close()
{
    if (!QSqlDatabase::contains(m_connectionName))
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

bool SqlHistoryStore::open(QString *error)
{
    close();
    const bool sqlite = m_url.backend == HistoryUrl::Backend::Sqlite;
    if (m_url.backend == HistoryUrl::Backend::None) {
        *error = QStringLiteral("history is off");
        return false;
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(sqlite ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL"), m_connectionName);
    if (!db.isValid()) {
        *error = QStringLiteral("the Qt SQL driver %1 is not installed (Debian: %2)")
                     .arg(sqlite ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL"),
                          sqlite ? QStringLiteral("libqt6sql6-sqlite") : QStringLiteral("libqt6sql6-psql"));
        return false;
    }
    if (sqlite) {
        QDir().mkpath(QFileInfo(m_url.path).absolutePath());
        db.setDatabaseName(m_url.path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    } else {
        db.setHostName(m_url.host);
        db.setPort(m_url.port);
        db.setUserName(m_url.user);
        db.setPassword(m_url.password);
        db.setDatabaseName(m_url.database);
        QString options = QStringLiteral("connect_timeout=5");
        if (!m_url.options.isEmpty())
            options += QLatin1Char(';') + m_url.options;
        db.setConnectOptions(options);
    }
    if (!db.open()) {
        *error = QStringLiteral("cannot open the history at %1: %2").arg(m_url.display(), sqlError(db.lastError()));
        return false;
    }
    if (sqlite) {
        // WAL with synchronous=NORMAL: a commit is in the WAL file once it
        // returns, so a killed process loses nothing committed; only a power
        // cut can lose the last commits, never corrupt the file.
        QSqlQuery pragma(db);
        for (const char *statement : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
            if (!pragma.exec(QLatin1String(statement))) {
                *error = sqlError(pragma.lastError());
                return false;
            }
        }
    }
    return migrate(error);
}

bool SqlHistoryStore::migrate(QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    if (!execText(query, QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"), error))
        return false;
    if (!execText(query, QStringLiteral("SELECT MAX(version) FROM schema_version"), error))
        return false;
    const int current = query.next() && !query.value(0).isNull() ? query.value(0).toInt() : 0;
    if (current > kSchemaVersion) {
        *error = QStringLiteral("the history's schema is version %1, newer than this engine's %2").arg(current).arg(kSchemaVersion);
        return false;
    }
    if (current == kSchemaVersion)
        return true;
    // Each version's statements in one transaction (PostgreSQL's DDL is
    // transactional; SQLite's too), so two nodes starting at once end up with
    // one schema.
    db.transaction();
    if (current < 1) {
        for (const char *statement : kSchemaV1) {
            if (!execText(query, QLatin1String(statement), error)) {
                db.rollback();
                return false;
            }
        }
    }
    query.prepare(QStringLiteral("INSERT INTO schema_version (version) VALUES (?)"));
    query.addBindValue(kSchemaVersion);
    if (!exec(query, error) || !db.commit()) {
        if (error->isEmpty())
            *error = sqlError(db.lastError());
        db.rollback();
        return false;
    }
    return true;
}

bool SqlHistoryStore::writeRow(const HistoryRow &row, QString *error)
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    // A conversation row exists before anything else is written to it: a chat
    // has no "started" event, and a turn may be the first row a batch holds.
    query.prepare(QStringLiteral(
        "INSERT INTO conversations (tenant_id, conversation_id, channel, peer, started_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, conversation_id) DO NOTHING"));
    query.addBindValue(text(row.tenantId));
    query.addBindValue(text(row.conversationId));
    query.addBindValue(historyChannelName(row.channel));
    query.addBindValue(text(row.peer));
    query.addBindValue(epochMs(row.at));
    if (!exec(query, error))
        return false;
    switch (row.kind) {
    case HistoryRow::Kind::Started:
        return true;
    case HistoryRow::Kind::Turn: {
        const HistoryTurn &t = row.turn;
        query.prepare(QStringLiteral(
            "INSERT INTO turns (tenant_id, conversation_id, turn_index, ended_at, caller_text, agent_reply, agent_heard, trace_json, providers_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, conversation_id, turn_index) DO UPDATE SET "
            "ended_at = excluded.ended_at, caller_text = excluded.caller_text, agent_reply = excluded.agent_reply, "
            "agent_heard = excluded.agent_heard, trace_json = excluded.trace_json, providers_json = excluded.providers_json"));
        query.addBindValue(text(row.tenantId));
        query.addBindValue(text(row.conversationId));
        query.addBindValue(t.index);
        query.addBindValue(epochMs(t.endedAt.isValid() ? t.endedAt : row.at));
        query.addBindValue(text(t.callerText));
        query.addBindValue(text(t.agentReply));
        query.addBindValue(text(t.agentHeard));
        query.addBindValue(jsonText(t.trace));
        query.addBindValue(jsonText(t.providers));
        if (!exec(query, error))
            return false;
        // Until the conversation ends, its end is its last turn: a chat never
        // ends, and a call cut short by a crash still gets a duration.
        query.prepare(QStringLiteral(
            "UPDATE conversations SET ended_at = ? WHERE tenant_id = ? AND conversation_id = ? AND end_reason IS NULL"));
        query.addBindValue(epochMs(row.at));
        query.addBindValue(text(row.tenantId));
        query.addBindValue(text(row.conversationId));
        return exec(query, error);
    }
    case HistoryRow::Kind::Ended:
        query.prepare(QStringLiteral(
            "UPDATE conversations SET ended_at = ?, end_reason = ? WHERE tenant_id = ? AND conversation_id = ?"));
        query.addBindValue(epochMs(row.at));
        query.addBindValue(row.endReason.isEmpty() ? QStringLiteral("ended") : row.endReason);
        query.addBindValue(text(row.tenantId));
        query.addBindValue(text(row.conversationId));
        return exec(query, error);
    }
    return true;
}

bool SqlHistoryStore::write(const QList<HistoryRow> &rows, QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (!db.isOpen()) {
        *error = QStringLiteral("the history is not open");
        return false;
    }
    if (!db.transaction()) {
        *error = sqlError(db.lastError());
        return false;
    }
    for (const auto &row : rows) {
        if (!writeRow(row, error)) {
            db.rollback();
            return false;
        }
    }
    if (!db.commit()) {
        *error = sqlError(db.lastError());
        db.rollback();
        return false;
    }
    return true;
}

int SqlHistoryStore::deleteBefore(const QString &tenantId, const QDateTime &cutoff, QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    db.transaction();
    QSqlQuery query(db);
    // A conversation goes by its last activity, so a chat still in use keeps its early turns.
    const QString due = QStringLiteral("COALESCE(ended_at, started_at) < ?");
    query.prepare(QStringLiteral("DELETE FROM turns WHERE tenant_id = ? AND conversation_id IN "
                                 "(SELECT conversation_id FROM conversations WHERE tenant_id = ? AND %1)").arg(due));
    query.addBindValue(tenantId);
    query.addBindValue(tenantId);
    query.addBindValue(cutoff.toMSecsSinceEpoch());
    if (!exec(query, error)) {
        db.rollback();
        return -1;
    }
    query.prepare(QStringLiteral("DELETE FROM conversations WHERE tenant_id = ? AND %1").arg(due));
    query.addBindValue(tenantId);
    query.addBindValue(cutoff.toMSecsSinceEpoch());
    if (!exec(query, error)) {
        db.rollback();
        return -1;
    }
    const int deleted = query.numRowsAffected();
    if (!db.commit()) {
        *error = sqlError(db.lastError());
        db.rollback();
        return -1;
    }
    return deleted;
}

QList<HistoryConversation> SqlHistoryStore::readConversations(const QString &where, const QVariantList &values, QString *error)
{
    QList<HistoryConversation> out;
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT tenant_id, conversation_id, channel, peer, started_at, ended_at, end_reason "
                                 "FROM conversations WHERE ") + where);
    for (const auto &value : values)
        query.addBindValue(value);
    if (!exec(query, error))
        return {};
    while (query.next()) {
        HistoryConversation c;
        c.tenantId = query.value(0).toString();
        c.conversationId = query.value(1).toString();
        c.channel = historyChannelFromName(query.value(2).toString());
        c.peer = query.value(3).toString();
        c.startedAt = fromEpochMs(query.value(4));
        c.endedAt = fromEpochMs(query.value(5));
        c.endReason = query.value(6).toString();
        out << c;
    }
    for (auto &c : out) {
        if (!readTurns(c, error))
            return {};
    }
    return out;
}

bool SqlHistoryStore::readTurns(HistoryConversation &c, QString *error)
{
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT turn_index, ended_at, caller_text, agent_reply, agent_heard, trace_json, providers_json "
                                 "FROM turns WHERE tenant_id = ? AND conversation_id = ? ORDER BY turn_index"));
    query.addBindValue(c.tenantId);
    query.addBindValue(c.conversationId);
    if (!exec(query, error))
        return false;
    while (query.next()) {
        HistoryTurn t;
        t.index = query.value(0).toInt();
        t.endedAt = fromEpochMs(query.value(1));
        t.callerText = query.value(2).toString();
        t.agentReply = query.value(3).toString();
        t.agentHeard = query.value(4).toString();
        t.trace = jsonObject(query.value(5));
        t.providers = jsonObject(query.value(6));
        c.turns << t;
    }
    return true;
}

QList<HistoryConversation> SqlHistoryStore::conversations(const QString &tenantId, QDate from, QDate to, QString *error)
{
    const QDateTime begin(from, QTime(0, 0), Qt::UTC);
    const QDateTime end(to.addDays(1), QTime(0, 0), Qt::UTC);
    return readConversations(QStringLiteral("tenant_id = ? AND started_at >= ? AND started_at < ? ORDER BY started_at, conversation_id"),
                             {tenantId, begin.toMSecsSinceEpoch(), end.toMSecsSinceEpoch()}, error);
}

QList<HistoryConversation> SqlHistoryStore::recentCalls(const QString &tenantId, int limit, QString *error)
{
    return readConversations(QStringLiteral("tenant_id = ? ORDER BY started_at DESC, conversation_id LIMIT ?"),
                             {tenantId, limit}, error);
}

} // namespace apex
