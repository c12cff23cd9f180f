#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace apex::test {

// A real redis-server on a free 127.0.0.1 port, for suites that test against
// Redis itself. No persistence (--save "" --appendonly no), its files in a
// temporary folder. A missing redis-server is a failure, not a skip: the
// installer (packaging/install-deps.sh) provides it, so its absence in CI means
// the environment is broken. Use: QVERIFY2(server.start(), qPrintable(server.errorString())).
class RedisServer
{
public:
    explicit RedisServer(const QString &password = {});
    ~RedisServer(); // stop()

    RedisServer(const RedisServer &) = delete;
    RedisServer &operator=(const RedisServer &) = delete;

    // Picks a free port and waits (bounded) until the server answers PING.
    bool start();
    // SIGTERM, then waits for the exit (SIGKILL after 5 s).
    void stop();
    // SIGKILL: the connection loss a crash or OOM kill produces.
    void kill();
    // Starts again on the same port (clients reconnect to the same URL).
    bool restart();

    bool isRunning() const;
    quint16 port() const { return m_port; }
    QString password() const { return m_password; }
    // redis://[:password@]127.0.0.1:port/db, the password percent-encoded.
    QString url(int db = 0) const;
    // Why start()/restart() failed, with the server's own output.
    QString errorString() const { return m_error; }

    // The redis-server executable: PATH, then /usr/bin, /usr/local/bin; empty if none.
    static QString executable();

private:
    bool launch(quint16 port);
    bool waitUntilReady(int timeoutMs);

    QString m_password;
    quint16 m_port = 0;
    QString m_error;
    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
};

} // namespace apex::test
