#pragma once

#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace apex::test {

// A real PostgreSQL server on a free 127.0.0.1 port, its cluster in a
// temporary folder (initdb, trust authentication, fsync off: a test's data
// need not survive a power cut). PostgreSQL refuses to run as root, and the
// tests run as root here and in CI, so as root initdb and postgres run as the
// user `nobody` (the folder is handed to it). A missing server is a failure,
// not a skip: packaging/install-deps.sh installs postgresql.
class PostgresServer
{
public:
    PostgresServer() = default;
    ~PostgresServer(); // stop()

    PostgresServer(const PostgresServer &) = delete;
    PostgresServer &operator=(const PostgresServer &) = delete;

    bool start();
    void stop();
    quint16 port() const { return m_port; }
    // postgresql://apex:secret@127.0.0.1:port/postgres (trust: any password passes)
    QString url() const;
    QString errorString() const { return m_error; }

    // The folder holding initdb and postgres (/usr/lib/postgresql/<newest>/bin); empty if none.
    static QString binDir();

private:
    bool run(const QString &program, const QStringList &args, QString *output);
    void dropPrivileges(QProcess &process);
    bool waitUntilReady(int timeoutMs);

    quint16 m_port = 0;
    QString m_error;
    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
};

} // namespace apex::test
