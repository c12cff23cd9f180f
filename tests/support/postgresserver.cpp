#include "postgresserver.h"

#include "testsupport.h"

#include <QCollator>
#include <QDeadlineTimer>
#include <QDir>
#include <QDirIterator>
#include <QTcpSocket>
#include <QThread>

#include <csignal>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace apex::test {

PostgresServer::~PostgresServer() { stop(); }

QString PostgresServer::binDir()
{
    QStringList versions = QDir(QStringLiteral("/usr/lib/postgresql")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    QCollator numeric;
    numeric.setNumericMode(true);
    std::sort(versions.begin(), versions.end(), [&](const QString &a, const QString &b) { return numeric.compare(a, b) > 0; });
    for (const auto &version : versions) {
        const QString dir = QStringLiteral("/usr/lib/postgresql/%1/bin").arg(version);
        if (QFileInfo::exists(dir + QStringLiteral("/postgres")) && QFileInfo::exists(dir + QStringLiteral("/initdb")))
            return dir;
    }
    return {};
}

void PostgresServer::dropPrivileges(QProcess &process)
{
    const bool root = ::geteuid() == 0;
    const passwd *nobody = ::getpwnam("nobody");
    const uid_t uid = nobody ? nobody->pw_uid : 65534;
    const gid_t gid = nobody ? nobody->pw_gid : 65534;
    process.setChildProcessModifier([root, uid, gid] {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL); // a crashed test leaves no server behind
        if (root) {
            ::setgroups(0, nullptr);
            if (::setgid(gid) != 0 || ::setuid(uid) != 0)
                ::_exit(126);
        }
    });
}

bool PostgresServer::run(const QString &program, const QStringList &args, QString *output)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setWorkingDirectory(m_dir.path());
    dropPrivileges(process);
    process.start(program, args);
    const bool ok = process.waitForFinished(120000) && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    *output = QString::fromLocal8Bit(process.readAll()).trimmed();
    return ok;
}

bool PostgresServer::start()
{
    if (m_process)
        return true;
    const QString bin = binDir();
    if (bin.isEmpty()) {
        m_error = QStringLiteral("no PostgreSQL server under /usr/lib/postgresql: install postgresql (packaging/install-deps.sh does)");
        return false;
    }
    if (!m_dir.isValid()) {
        m_error = QStringLiteral("cannot create a temporary folder for PostgreSQL");
        return false;
    }
    if (::geteuid() == 0) {
        const passwd *nobody = ::getpwnam("nobody");
        const uid_t uid = nobody ? nobody->pw_uid : 65534;
        const gid_t gid = nobody ? nobody->pw_gid : 65534;
        if (::chown(QFile::encodeName(m_dir.path()).constData(), uid, gid) != 0) {
            m_error = QStringLiteral("cannot hand %1 to nobody").arg(m_dir.path());
            return false;
        }
    }
    QString output;
    if (!run(bin + QStringLiteral("/initdb"),
             {QStringLiteral("-D"), m_dir.filePath(QStringLiteral("data")), QStringLiteral("-U"), QStringLiteral("apex"),
              QStringLiteral("--auth=trust"), QStringLiteral("--no-locale"), QStringLiteral("-E"), QStringLiteral("UTF8"),
              QStringLiteral("--no-sync")},
             &output)) {
        m_error = QStringLiteral("initdb failed: %1").arg(output);
        return false;
    }
    QDir(m_dir.path()).mkdir(QStringLiteral("socket"));
    if (::geteuid() == 0) {
        const passwd *nobody = ::getpwnam("nobody");
        if (::chown(QFile::encodeName(m_dir.filePath(QStringLiteral("socket"))).constData(), nobody ? nobody->pw_uid : 65534,
                    nobody ? nobody->pw_gid : 65534) != 0) {
            m_error = QStringLiteral("cannot hand the socket folder to nobody");
            return false;
        }
    }
    for (int tries = 0; tries < 3; ++tries) {
        m_port = freeLoopbackPort();
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setWorkingDirectory(m_dir.path());
        dropPrivileges(*m_process);
        m_process->start(bin + QStringLiteral("/postgres"),
                         {QStringLiteral("-D"), m_dir.filePath(QStringLiteral("data")), QStringLiteral("-p"), QString::number(m_port),
                          QStringLiteral("-k"), m_dir.filePath(QStringLiteral("socket")), QStringLiteral("-c"),
                          QStringLiteral("listen_addresses=127.0.0.1"), QStringLiteral("-c"), QStringLiteral("fsync=off")});
        if (m_process->waitForStarted(5000) && waitUntilReady(30000)) {
            m_error.clear();
            return true;
        }
        m_error = QStringLiteral("postgres on port %1 did not start: %2").arg(m_port).arg(QString::fromLocal8Bit(m_process->readAll()).trimmed());
        stop();
    }
    return false;
}

bool PostgresServer::waitUntilReady(int timeoutMs)
{
    // Accepting TCP is not enough (the startup packet is refused while the
    // cluster recovers); pg_isready asks the way a client would.
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (m_process->state() != QProcess::Running)
            return false;
        QProcess ready;
        ready.start(binDir() + QStringLiteral("/pg_isready"),
                    {QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"), QString::number(m_port), QStringLiteral("-q")});
        if (ready.waitForFinished(5000) && ready.exitCode() == 0)
            return true;
        // Not a sleep: without an event loop only a wait notices the server exiting.
        m_process->waitForFinished(100);
    }
    return false;
}

void PostgresServer::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        // SIGINT: PostgreSQL's "fast" shutdown.
        ::kill(pid_t(m_process->processId()), SIGINT);
        if (!m_process->waitForFinished(10000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_process.reset();
}

QString PostgresServer::url() const
{
    return QStringLiteral("postgresql://apex:secret@127.0.0.1:%1/postgres").arg(m_port);
}

} // namespace apex::test
