// A graceful stop, as systemctl stop does it: SIGTERM while a call is live. The
// engine refuses new calls, lets the live one go on for the configured drain
// time, then says the tenant's goodbye line, hangs up and exits cleanly.

#include "testsupport.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

QString bin(const QString &name)
{
    return apex::test::binaryDir() + QLatin1Char('/') + name;
}

} // namespace

class TestEndToEndDrain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sigtermLetsTheLiveCallFinishWithAGoodbye()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QFile shipped(apex::test::sourceDir() + QStringLiteral("/resources/config/apex.json"));
        QVERIFY(shipped.open(QIODevice::ReadOnly));
        QJsonObject config = QJsonDocument::fromJson(shipped.readAll()).object();
        config.insert(QStringLiteral("drainMs"), 1500);
        const QString configPath = dir.filePath(QStringLiteral("apex.json"));
        QFile out(configPath);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(QJsonDocument(config).toJson());
        out.close();

        const quint16 port = apex::test::freeLoopbackPort();
        QProcess engine;
        engine.setProcessChannelMode(QProcess::MergedChannels);
        engine.start(bin(QStringLiteral("apex-engine")),
                     {QStringLiteral("--config"), configPath, QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)});
        QVERIFY(engine.waitForStarted(5000));
        QByteArray log;
        auto readLog = [&] { log += engine.readAll(); return log; };
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("listening"), 60000);

        // A long call: three questions, each answered before the next.
        QProcess caller;
        caller.setProcessChannelMode(QProcess::MergedChannels);
        caller.start(bin(QStringLiteral("apex-call")),
                     {QStringLiteral("--engine"), QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--voice"), QStringLiteral("rms"),
                      QStringLiteral("--say"), QStringLiteral("What are your opening hours?"),
                      QStringLiteral("--say"), QStringLiteral("Do you have parking?"),
                      QStringLiteral("--say"), QStringLiteral("How much does a cleaning cost?")});
        QVERIFY(caller.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("call started"), 20000);

        ::kill(pid_t(engine.processId()), SIGTERM);
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("draining: 1 live calls"), 5000);
        QVERIFY(engine.state() == QProcess::Running); // the live call holds it up

        // A new call while draining is refused at its start.
        QProcess late;
        late.setProcessChannelMode(QProcess::MergedChannels);
        late.start(bin(QStringLiteral("apex-call")),
                   {QStringLiteral("--engine"), QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--say"), QStringLiteral("Hello?")});
        QVERIFY(late.waitForFinished(30000));
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("refusing a new media stream"), 5000);

        // Drain time spent: the goodbye, the hang-up, a clean exit.
        QVERIFY(engine.waitForFinished(30000));
        readLog();
        qInfo().noquote() << QString::fromUtf8(log).right(3000);
        QVERIFY(log.contains("saying goodbye to 1 live calls"));
        QVERIFY(log.contains("saying goodbye and hanging up"));
        QCOMPARE(engine.exitStatus(), QProcess::NormalExit);
        QCOMPARE(engine.exitCode(), 0);
        QVERIFY(caller.waitForFinished(30000));
    }
};

QTEST_GUILESS_MAIN(TestEndToEndDrain)
#include "test_e2e_drain.moc"
