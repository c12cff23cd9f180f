#include "redisserver.h"

#include "testsupport.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QThread>
#include <QUrl>

#include <csignal>
#include <sys/prctl.h>

namespace apex::test {

RedisServer::RedisServer(const QString &password)
    : m_password(password)
{
}

RedisServer::~RedisServer()
{
    stop();
}

QString RedisServer::executable()
{
    QString path = QStandardPaths::findExecutable(QStringLiteral("redis-server"));
    if (path.isEmpty())
        path = QStandardPaths::findExecutable(QStringLiteral("redis-server"),
                                              {QStringLiteral("/usr/bin"), QStringLiteral("/usr/local/bin")});
    return path;
}

bool RedisServer::start()
{
    if (isRunning())
        return true;
    if (executable().isEmpty()) {
        m_error = QStringLiteral("redis-server not found in PATH, /usr/bin or /usr/local/bin: install it "
                                 "(packaging/install-deps.sh installs redis-server)");
        return false;
    }
    // freeLoopbackPort() was free a moment ago; another process may take it in
    // between, so a server that dies at start gets a few fresh ports.
    for (int tries = 0; tries < 3; ++tries) {
        if (launch(freeLoopbackPort()))
            return true;
    }
    return false;
}

bool RedisServer::restart()
{
    stop();
    if (m_port == 0)
        return start();
    return launch(m_port);
}

bool RedisServer::launch(quint16 port)
{
    if (!m_dir.isValid()) {
        m_error = QStringLiteral("cannot create a temporary folder for redis-server");
        return false;
    }
    m_port = port;
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->setWorkingDirectory(m_dir.path());
    // A crashed or killed test must not leave servers behind holding ports.
    m_process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    QStringList args{QStringLiteral("--port"), QString::number(port),
                     QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                     QStringLiteral("--save"), QStringLiteral(""),
                     QStringLiteral("--appendonly"), QStringLiteral("no"),
                     QStringLiteral("--daemonize"), QStringLiteral("no"),
                     QStringLiteral("--dir"), m_dir.path(),
                     QStringLiteral("--loglevel"), QStringLiteral("warning")};
    if (!m_password.isEmpty())
        args << QStringLiteral("--requirepass") << m_password;
    m_process->start(executable(), args);
    if (!m_process->waitForStarted(5000)) {
        m_error = QStringLiteral("cannot run %1: %2").arg(executable(), m_process->errorString());
        m_process.reset();
        return false;
    }
    if (!waitUntilReady(10000)) {
        const QString output = QString::fromLocal8Bit(m_process->readAll());
        m_error = QStringLiteral("redis-server on port %1 did not answer PING: %2").arg(port).arg(output.trimmed());
        kill();
        return false;
    }
    m_error.clear();
    return true;
}

bool RedisServer::waitUntilReady(int timeoutMs)
{
    // Any answer to PING means the server accepts commands: +PONG, or -NOAUTH
    // when a password is set.
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (m_process->state() != QProcess::Running)
            return false;
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_port);
        if (socket.waitForConnected(200)) {
            socket.write("PING\r\n");
            if (socket.waitForBytesWritten(200) && socket.waitForReadyRead(1000)) {
                const QByteArray line = socket.readAll();
                if (line.startsWith("+PONG") || line.startsWith("-NOAUTH"))
                    return true;
            }
        }
        // A connect to a port nobody listens on fails at once: do not spin.
        QThread::msleep(20);
    }
    return false;
}

void RedisServer::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(5000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_process.reset();
}

void RedisServer::kill()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
    m_process.reset();
}

bool RedisServer::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

QString RedisServer::url(int db) const
{
    QString credentials;
    if (!m_password.isEmpty())
        credentials = QStringLiteral(":%1@").arg(QString::fromLatin1(QUrl::toPercentEncoding(m_password)));
    return QStringLiteral("redis://") + credentials + QStringLiteral("127.0.0.1:%1/%2").arg(m_port).arg(db);
}

} // namespace apex::test
