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
//
// Contract details:
// - Thread affinity is the QObject's: construct anywhere, moveToThread() if
//   needed, then call start() and everything else on the owning thread.
// - "Down" includes Connecting: commands only go out once the handshake (AUTH,
//   SELECT, PING) has succeeded, so nothing queues while a connect is pending.
// - Commands pending when the connection drops are answered with Disconnected;
//   they are not retried (a write may or may not have reached the server).
// - Destroying the client drops every pending callback unanswered: no callback
//   ever reaches a destroyed client or what its owner has torn down.
// - A callback may destroy the client, but must not spin a nested event loop
//   (hiredis is not reentrant).
// - stateChanged is delivered on a later event-loop turn, once per transition and
//   in order; its argument is the state that was entered.
class RedisClient : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        QString url; // redis://[[user]:password@]host[:port][/db] — host must be an IP literal or localhost
        int reconnectInitialMs = 100;
        int reconnectMaxMs = 5000;
        int connectTimeoutMs = 2000; // TCP connect plus handshake
        // A reply older than this means a hung server or a dead path the kernel
        // has not noticed: the connection is dropped (pending commands answered
        // Disconnected) and rebuilt. 0 disables. Keep blocking commands (BLPOP
        // ...) shorter than this, or give them a client with 0.
        int commandTimeoutMs = 3000;
        // Commands sent and not yet answered; beyond this command() refuses at
        // once with an Error reply instead of queueing behind a slow server.
        int maxPendingCommands = 10000;
    };
    enum class State { Disconnected, Connecting, Connected };

    using Callback = std::function<void(const RedisReply &reply)>;

    explicit RedisClient(Settings settings, QObject *parent = nullptr);
    ~RedisClient() override;

    // Starts connecting (and reconnecting after losses) until destroyed. With an
    // unparsable URL it logs the reason, sets lastError() and never connects.
    void start();
    State state() const;
    bool isConnected() const { return state() == State::Connected; }

    // Why the last connect failed or the connection was lost ("authentication
    // failed: WRONGPASS ...", "Connection refused", ...); empty while all is well.
    // Never contains the password.
    QString lastError() const;

    // argv is sent as is: binary-safe, no formatting. `callback` may be empty.
    // (P)SUBSCRIBE, (P)UNSUBSCRIBE and MONITOR are refused with an Error reply:
    // they turn the connection into a push channel that needs its own client.
    void command(const QList<QByteArray> &argv, Callback callback = {});

    // Parses redis://[[user]:password@]host[:port][/db]; false with a message on
    // bad input. The password may hold any character: the user info ends at the
    // last '@', and %XX escapes are decoded. A bare "redis://secret@host" is read
    // as a password (Redis < 6 style). The message never quotes the password.
    struct Endpoint
    {
        QString host = QStringLiteral("127.0.0.1"); // an IP literal; "localhost" becomes 127.0.0.1
        quint16 port = 6379;
        QString username; // Redis 6 ACL user; empty: AUTH <password>
        QString password;
        int db = 0;

        // host:port/db, for logs: never the credentials.
        QString displayName() const;
    };
    static bool parseUrl(const QString &url, Endpoint *endpoint, QString *error);

Q_SIGNALS:
    void stateChanged(apex::RedisClient::State state);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace apex
