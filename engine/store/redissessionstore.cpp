#include "store/redissessionstore.h"

#include "observability/logging.h"
#include "store/redisclient.h"
#include "store/rediskeys.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace apex {

namespace {

QString isoUtc(const QDateTime &t)
{
    return (t.isValid() ? t : QDateTime::currentDateTimeUtc()).toUTC().toString(Qt::ISODateWithMs);
}

} // namespace

RedisSessionStore::RedisSessionStore(RedisClient *client, std::chrono::seconds ttl, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_ttl(ttl)
    , m_log(apex::log::get("redis"))
{
}

RedisSessionStore::~RedisSessionStore() = default;

void RedisSessionStore::save(const SessionRecord &record, std::function<void(bool ok)> done)
{
    const QByteArray key = RedisKeys::sessionKey(record.tenantId, record.kind, record.id);
    if (key.isEmpty() || m_ttl.count() <= 0 || !m_client) {
        if (key.isEmpty())
            m_log->warn("session not saved: invalid tenant/kind/id (tenant \"{}\", kind \"{}\")", record.tenantId,
                        record.kind);
        if (done)
            QMetaObject::invokeMethod(this, [done = std::move(done)] { done(false); }, Qt::QueuedConnection);
        return;
    }
    m_client->command(
        {QByteArrayLiteral("SET"), key, toJson(record), QByteArrayLiteral("EX"), QByteArray::number(qint64(m_ttl.count()))},
        [self = QPointer<RedisSessionStore>(this), done = std::move(done)](const RedisReply &reply) {
            if (!self)
                return;
            const bool ok = reply.type == RedisReply::Type::Status && reply.string == "OK";
            if (reply.type == RedisReply::Type::Error)
                self->m_log->warn("session save refused by Redis: {}", reply.string);
            if (done)
                done(ok);
        });
}

void RedisSessionStore::load(const QString &tenantId, const QString &kind, const QString &id,
                             std::function<void(std::optional<SessionRecord>)> done)
{
    const QByteArray key = RedisKeys::sessionKey(tenantId, kind, id);
    if (key.isEmpty() || !m_client) {
        if (done)
            QMetaObject::invokeMethod(this, [done = std::move(done)] { done(std::nullopt); }, Qt::QueuedConnection);
        return;
    }
    m_client->command({QByteArrayLiteral("GET"), key},
                      [self = QPointer<RedisSessionStore>(this), done = std::move(done), tenantId, kind,
                       id](const RedisReply &reply) {
                          if (!self || !done)
                              return;
                          if (reply.type != RedisReply::Type::String) {
                              if (reply.type == RedisReply::Type::Error)
                                  self->m_log->warn("session load refused by Redis: {}", reply.string);
                              done(std::nullopt);
                              return;
                          }
                          std::optional<SessionRecord> record = fromJson(reply.string);
                          // The key already names the session; a body naming another is corrupt.
                          if (record && (record->tenantId != tenantId || record->kind != kind || record->id != id))
                              record.reset();
                          if (!record)
                              self->m_log->warn("unreadable session record for tenant \"{}\" ({} bytes); ignored",
                                                tenantId, reply.string.size());
                          done(std::move(record));
                      });
}

QByteArray RedisSessionStore::toJson(const SessionRecord &record)
{
    QJsonArray turns;
    for (const SessionRecord::Turn &turn : record.turns)
        turns.append(QJsonObject{{QStringLiteral("role"), turn.role}, {QStringLiteral("text"), turn.text}});
    const QJsonObject object{
        {QStringLiteral("tenantId"), record.tenantId},
        {QStringLiteral("kind"), record.kind},
        {QStringLiteral("id"), record.id},
        {QStringLiteral("turns"), turns},
        {QStringLiteral("createdAt"), isoUtc(record.createdAt)},
        {QStringLiteral("updatedAt"), isoUtc(record.updatedAt)},
    };
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

std::optional<SessionRecord> RedisSessionStore::fromJson(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    const QJsonObject object = document.object();
    SessionRecord record;
    record.tenantId = object.value(QLatin1String("tenantId")).toString();
    record.kind = object.value(QLatin1String("kind")).toString();
    record.id = object.value(QLatin1String("id")).toString();
    if (record.tenantId.isEmpty() || record.kind.isEmpty() || record.id.isEmpty()
        || !object.value(QLatin1String("turns")).isArray())
        return std::nullopt;
    for (const QJsonValue &value : object.value(QLatin1String("turns")).toArray()) {
        const QJsonObject turn = value.toObject();
        record.turns.append({turn.value(QLatin1String("role")).toString(), turn.value(QLatin1String("text")).toString()});
    }
    record.createdAt = QDateTime::fromString(object.value(QLatin1String("createdAt")).toString(), Qt::ISODateWithMs).toUTC();
    record.updatedAt = QDateTime::fromString(object.value(QLatin1String("updatedAt")).toString(), Qt::ISODateWithMs).toUTC();
    return record;
}

} // namespace apex
