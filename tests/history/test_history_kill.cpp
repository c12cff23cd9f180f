// Nothing is lost on kill -9 after a turn has ended: a real apex-engine writes
// its history to a SQLite file, apex-call asks one question, and the moment
// the engine logs the turn as complete it gets SIGKILL. The file, opened
// afterwards, holds the call and the turn with its text and trace.
//
// What it proves: a turn is queued when it ends, the writer commits it as
// soon as it wakes (milliseconds later; the engine logs the commit at debug
// level), and a commit survives kill -9 (WAL, synchronous=NORMAL). The few
// milliseconds between the turn's end and its commit are the window a kill
// can still hit: the test kills right after the commit line, not the turn line.

#include "testsupport.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

QString bin(const QString &name)
{
    return apex::test::binaryDir() + QLatin1Char('/') + name;
}

} // namespace

class TestHistoryKill : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void killNineRightAfterATurnLosesNothing()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString historyPath = dir.filePath(QStringLiteral("history.sqlite"));
        const quint16 port = apex::test::freeLoopbackPort();
        QProcess engine;
        engine.setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("APEX_HISTORY_URL"), QStringLiteral("sqlite://") + historyPath);
        env.insert(QStringLiteral("APEX_CONFIG"), apex::test::sourceDir() + QStringLiteral("/resources/config/apex.json"));
        engine.setProcessEnvironment(env);
        engine.start(bin(QStringLiteral("apex-engine")), {QStringLiteral("--verbose"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)});
        QVERIFY(engine.waitForStarted(5000));
        QByteArray log;
        auto readLog = [&] { log += engine.readAll(); return log; };
        QTRY_VERIFY_WITH_TIMEOUT(readLog().contains("listening"), 60000);
        QVERIFY2(log.contains("history: writing to sqlite://"), log.constData());

        QProcess caller;
        caller.setProcessChannelMode(QProcess::MergedChannels);
        caller.start(bin(QStringLiteral("apex-call")),
                     {QStringLiteral("--engine"), QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--voice"), QStringLiteral("rms"),
                      QStringLiteral("--say"), QStringLiteral("What are your opening hours?"),
                      QStringLiteral("--say"), QStringLiteral("Do you have parking?")});
        QVERIFY(caller.waitForStarted(5000));
        // Poll the pipe tightly: the kill must follow the line, not a test tick later.
        QDeadlineTimer deadline(90000);
        while (!readLog().contains("turn 1: end of speech") && !deadline.hasExpired())
            engine.waitForReadyRead(1);
        QVERIFY2(log.contains("turn 1: end of speech"), log.right(3000).constData());
        // The engine's word that the turn is durable (the writer commits as
        // soon as it wakes, a few ms after the turn); from then on a kill -9
        // must lose nothing.
        const qsizetype turnAt = log.indexOf("turn 1: end of speech");
        while (log.indexOf("committed", turnAt) < 0 || !log.mid(log.indexOf("committed", turnAt)).contains("the last turn 1"))
            if (!engine.waitForReadyRead(1000) && (readLog(), deadline.hasExpired()))
                break;
        readLog();
        QVERIFY2(log.mid(turnAt).contains("the last turn 1"), log.right(3000).constData());
        ::kill(pid_t(engine.processId()), SIGKILL);
        QVERIFY(engine.waitForFinished(10000));
        QCOMPARE(engine.exitStatus(), QProcess::CrashExit);
        caller.kill();
        caller.waitForFinished(5000);

        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("after-kill"));
        db.setDatabaseName(historyPath);
        QVERIFY(db.open());
        {
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral("SELECT c.tenant_id, c.channel, t.turn_index, t.caller_text, t.agent_reply, t.trace_json "
                                              "FROM conversations c JOIN turns t ON t.tenant_id = c.tenant_id AND t.conversation_id = c.conversation_id")));
            QVERIFY2(query.next(), "the turn that had ended is not in the history");
            QCOMPARE(query.value(1).toString(), QStringLiteral("call"));
            QCOMPARE(query.value(2).toInt(), 1);
            QVERIFY(!query.value(3).toString().isEmpty());
            QVERIFY(!query.value(4).toString().isEmpty());
            const QJsonObject trace = QJsonDocument::fromJson(query.value(5).toString().toUtf8()).object();
            QVERIFY(trace.value(QStringLiteral("stagesMs")).toObject().contains(QStringLiteral("first_frame_out")));
        }
        db.close();

        // The same turn through the command line an operator uses.
        QProcess exporter;
        exporter.setProcessEnvironment(env);
        const QString today = QDateTime::currentDateTimeUtc().date().toString(Qt::ISODate);
        exporter.start(bin(QStringLiteral("apex-engine")), {QStringLiteral("--export"), QStringLiteral("demo"), QStringLiteral("--from"), today,
                                                            QStringLiteral("--to"), today, QStringLiteral("--format"), QStringLiteral("jsonl")});
        QVERIFY(exporter.waitForFinished(30000));
        QCOMPARE(exporter.exitCode(), 0);
        const QList<QByteArray> lines = exporter.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(lines.size(), 1);
        const QJsonObject call = QJsonDocument::fromJson(lines[0]).object();
        QCOMPARE(call.value(QStringLiteral("tenant")).toString(), QStringLiteral("demo"));
        QVERIFY(!call.value(QStringLiteral("turns")).toArray().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestHistoryKill)
#include "test_history_kill.moc"
