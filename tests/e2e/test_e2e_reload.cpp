// A reload, as `systemctl reload` does it: SIGHUP while a call is live. The
// engine re-reads the tenants from the same file; the live call goes on with
// the version it started with, the next call greets with the new one, and a
// file that no longer parses changes nothing.

#include "testsupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSaveFile>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

QString bin(const QString &name)
{
    return apex::test::binaryDir() + QLatin1Char('/') + name;
}

QJsonObject shippedConfig()
{
    QFile shipped(apex::test::sourceDir() + QStringLiteral("/resources/config/apex.json"));
    if (!shipped.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(shipped.readAll()).object();
}

QJsonObject withGreeting(QJsonObject config, const QString &greeting)
{
    QJsonArray tenants = config.value(QStringLiteral("tenants")).toArray();
    QJsonObject first = tenants.at(0).toObject();
    first.insert(QStringLiteral("greeting"), greeting);
    tenants.replace(0, first);
    config.insert(QStringLiteral("tenants"), tenants);
    config.insert(QStringLiteral("prewarmAtStart"), false);
    return config;
}

bool writeAtomically(const QString &path, const QByteArray &bytes)
{
    QSaveFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit();
}

} // namespace

class TestEndToEndReload : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sighupReloadsTenantsWithoutDroppingTheLiveCall()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QJsonObject shipped = shippedConfig();
        QVERIFY(!shipped.isEmpty());
        const QString configPath = dir.filePath(QStringLiteral("apex.json"));
        QVERIFY(writeAtomically(configPath, QJsonDocument(withGreeting(shipped, QStringLiteral("Hello from version one."))).toJson()));

        const quint16 port = apex::test::freeLoopbackPort();
        const QString engineAddress = QStringLiteral("127.0.0.1:%1").arg(port);
        QProcess engine;
        engine.setProcessChannelMode(QProcess::MergedChannels);
        engine.start(bin(QStringLiteral("apex-engine")), {QStringLiteral("--config"), configPath, QStringLiteral("--listen"), engineAddress});
        QVERIFY(engine.waitForStarted(5000));
        QByteArray log;
        auto readLog = [&] { log += engine.readAll(); return log; };
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("listening"), 60000);

        // A call of three questions, live across the reload.
        QProcess first;
        first.setProcessChannelMode(QProcess::MergedChannels);
        first.start(bin(QStringLiteral("apex-call")),
                    {QStringLiteral("--engine"), engineAddress, QStringLiteral("--voice"), QStringLiteral("rms"),
                     QStringLiteral("--say"), QStringLiteral("What are your opening hours?"),
                     QStringLiteral("--say"), QStringLiteral("Do you have parking?"),
                     QStringLiteral("--say"), QStringLiteral("How much does a cleaning cost?")});
        QVERIFY(first.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("greeting \"Hello from version one.\""), 20000);

        QVERIFY(writeAtomically(configPath, QJsonDocument(withGreeting(shipped, QStringLiteral("Hello from version two."))).toJson()));
        ::kill(pid_t(engine.processId()), SIGHUP);
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("tenants reloaded"), 60000);
        QVERIFY(log.contains("1 live calls keep the version they started with"));
        QVERIFY(engine.state() == QProcess::Running);

        // The live call was not dropped: every question answered.
        QVERIFY(first.waitForFinished(60000));
        const QByteArray firstOut = first.readAll();
        QVERIFY2(first.exitCode() == 0, firstOut.constData());
        QVERIFY2(!log.contains("hanging up"), log.right(2000).constData());

        // The next call greets with the new version.
        QProcess second;
        second.setProcessChannelMode(QProcess::MergedChannels);
        second.start(bin(QStringLiteral("apex-call")),
                     {QStringLiteral("--engine"), engineAddress, QStringLiteral("--say"), QStringLiteral("Do you have parking?")});
        QVERIFY(second.waitForFinished(60000));
        QTRY_VERIFY2_WITH_TIMEOUT(readLog().contains("greeting \"Hello from version two.\""),
                                  (log.right(3000) + "\n--- caller:\n" + second.readAll()).constData(), 5000);

        // A file that no longer parses: refused, the running tenants stay.
        QVERIFY(writeAtomically(configPath, QByteArrayLiteral("{ \"tenants\": [ broken")));
        ::kill(pid_t(engine.processId()), SIGHUP);
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("config reload refused"), 10000);
        const qsizetype before = log.size();
        QProcess third;
        third.setProcessChannelMode(QProcess::MergedChannels);
        third.start(bin(QStringLiteral("apex-call")),
                    {QStringLiteral("--engine"), engineAddress, QStringLiteral("--say"), QStringLiteral("Do you have parking?")});
        QVERIFY(third.waitForFinished(60000));
        QTRY_VERIFY_WITH_TIMEOUT(readLog().mid(before).contains("greeting \"Hello from version two.\""), 5000);

        engine.terminate();
        QVERIFY(engine.waitForFinished(30000));
        QCOMPARE(engine.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestEndToEndReload)
#include "test_e2e_reload.moc"
