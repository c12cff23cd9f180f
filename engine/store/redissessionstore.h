#pragma once

#include "store/sessionstore.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>

#include <chrono>
#include <memory>

namespace spdlog {
class logger;
}

namespace apex {

class RedisClient;

// Sessions in Redis so they outlive the process and are shared between engine
// nodes: SET apex:{tenant}:session:{kind}:{id} <json> EX ttl (TTL refreshed by
// every save). Never waits for Redis: with the client down a save reports false
// and a load answers nullopt on the next event-loop turn, and the caller runs on
// its in-memory copy. The client is not owned; if it is destroyed first the
// store behaves as if Redis were down.
class RedisSessionStore : public QObject, public SessionStore
{
    Q_OBJECT
public:
    explicit RedisSessionStore(RedisClient *client, std::chrono::seconds ttl = defaultSessionTtl,
                               QObject *parent = nullptr);
    ~RedisSessionStore() override;

    void save(const SessionRecord &record, std::function<void(bool ok)> done = {}) override;
    void load(const QString &tenantId, const QString &kind, const QString &id,
              std::function<void(std::optional<SessionRecord>)> done) override;

    // The stored value: {"tenantId","kind","id","turns":[{"role","text"}],
    // "createdAt","updatedAt"} with ISO-8601 UTC times (milliseconds).
    static QByteArray toJson(const SessionRecord &record);
    // nullopt if the text is not such an object.
    static std::optional<SessionRecord> fromJson(const QByteArray &json);

private:
    QPointer<RedisClient> m_client;
    std::chrono::seconds m_ttl;
    std::shared_ptr<spdlog::logger> m_log;
};

} // namespace apex
