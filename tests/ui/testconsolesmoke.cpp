// The `apex` binary end to end, as CI and an operator start it.

#include "testsupport.h"

#include <QProcess>
#include <QTcpServer>
#include <QTest>

namespace {

constexpr int kDemoWaitMs = 100'000; // above apex's own 90 s demo timeout
constexpr int kStartWaitMs = 20'000;

struct Run
{
    int exitCode = -1;
    bool finished = false;
    QString out;
    QString err;
};

Run runApex(const QStringList &arguments, int waitMs, const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(apex::test::binaryDir() + QStringLiteral("/apex"), arguments);
    Run run;
    if (!process.waitForStarted(kStartWaitMs))
        return run;
    run.finished = process.waitForFinished(waitMs);
    if (!run.finished) {
        process.kill();
        process.waitForFinished();
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

} // namespace

class TestConsoleSmoke : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void helpWorksWithoutDisplay();
    void missingConfigFailsClearly();
    void busyPortFailsClearly();
    void demoCallThroughEmbeddedEngine();
};

void TestConsoleSmoke::initTestCase()
{
    if (apex::test::binaryDir().isEmpty())
        QSKIP("APEX_BIN_DIR not set: run through ctest");
}

void TestConsoleSmoke::helpWorksWithoutDisplay()
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
    const Run run = runApex({QStringLiteral("--help")}, kStartWaitMs, environment);
    QVERIFY(run.finished);
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.contains(QStringLiteral("--quit-after-demo")), qPrintable(run.out));
}

void TestConsoleSmoke::missingConfigFailsClearly()
{
    const Run run = runApex({QStringLiteral("--config"), QStringLiteral("/nonexistent/apex.json")}, kStartWaitMs);
    QVERIFY(run.finished);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(QStringLiteral("cannot load configuration")), qPrintable(run.err));
}

void TestConsoleSmoke::busyPortFailsClearly()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    const QString listen = QStringLiteral("127.0.0.1:%1").arg(squatter.serverPort());
    const Run run = runApex({QStringLiteral("--listen"), listen}, kStartWaitMs);
    QVERIFY2(run.finished, "apex kept running on a port that is taken");
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains(QStringLiteral("cannot start the engine")), qPrintable(run.err));
}

void TestConsoleSmoke::demoCallThroughEmbeddedEngine()
{
    // No --listen: a one-shot demo picks a free port by itself.
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("APEX_LISTEN"));
    const Run run = runApex({QStringLiteral("--quit-after-demo")}, kDemoWaitMs, environment);
    QVERIFY2(run.finished, qPrintable(run.err));
    QVERIFY2(run.exitCode == 0, qPrintable(run.out + run.err));
    QVERIFY2(!run.out.trimmed().isEmpty(), "no demo summary on stdout");
}

QTEST_GUILESS_MAIN(TestConsoleSmoke)
#include "testconsolesmoke.moc"
