#pragma once

#include "store/redisreply.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

namespace apex {

// One asynchronous hiredis connection driven by the owning thread's Qt event
// loop (QSocketNotifiers on the context's fd): nothing ever blocks that thread.
// Commands pipeline; callbacks run on the owning thread in command order. The
// connection is survived: while it is down every command is answered at once
// (on a later event-loop turn) with Type::Disconnected, and the client keeps
// reconnecting with backoff. One client per engine thread; pub/sub needs its own.
class RedisClient : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        QString url; // redis://[:password@]host:port/db — host must be an IP literal or localhost
        int reconnectInitialMs = 100;
        int reconnectMaxMs = 5000;
        int connectTimeoutMs = 2000;
    };
    enum class State { Disconnected, Connecting, Connected };

    using Callback = std::function<void(const RedisReply &reply)>;

    explicit RedisClient(Settings settings, QObject *parent = nullptr);
    ~RedisClient() override;

    // Starts connecting (and reconnecting after losses) until destroyed.
    void start();
    State state() const;
    bool isConnected() const { return state() == State::Connected; }

    // argv is sent as is: binary-safe, no formatting. `callback` may be empty.
    void command(const QList<QByteArray> &argv, Callback callback = {});

    // Parses redis://[:password@]host:port/db; false with a message on bad input.
    struct Endpoint
    {
        QString host = QStringLiteral("127.0.0.1");
        quint16 port = 6379;
        QString password;
        int db = 0;
    };
    static bool parseUrl(const QString &url, Endpoint *endpoint, QString *error);

Q_SIGNALS:
    void stateChanged(apex::RedisClient::State state);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace apex
