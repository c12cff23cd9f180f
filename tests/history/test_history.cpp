// The call and chat history against both backends: a data-driven suite run
// once on a SQLite file and once on a real PostgreSQL server this test starts
// on a free loopback port. Rows go in through the engine-thread side
// (HistoryRecorder → HistoryWriter thread) and are read back through a second
// store of the kind the exporter and the console use.

#include "history/historyexport.h"
#include "history/historyrecorder.h"
#include "history/sqlhistorystore.h"
#include "observability/clock.h"
#include "postgresserver.h"
#include "testsupport.h"

#include <QBuffer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace apex;

namespace {

TurnTrace sampleTrace(int index, const QString &utterance, const QString &reply)
{
    TurnTrace trace(index);
    const std::int64_t t0 = monotonicNowNs();
    trace.stamp(TurnStage::EndOfSpeech, t0);
    trace.stamp(TurnStage::SttFinal, t0 + 120'000'000);
    trace.stamp(TurnStage::FirstFrameOut, t0 + 300'000'000);
    trace.utterance = utterance;
    trace.reply = reply;
    return trace;
}

HistoryRow turnRow(const QString &tenant, const QString &id, const QDateTime &at, int index)
{
    HistoryRow row;
    row.kind = HistoryRow::Kind::Turn;
    row.tenantId = tenant;
    row.conversationId = id;
    row.peer = QStringLiteral("+15550001");
    row.at = at;
    row.turn.index = index;
    row.turn.endedAt = at;
    row.turn.callerText = QStringLiteral("caller %1 of %2").arg(index).arg(id);
    row.turn.agentReply = QStringLiteral("agent, \"quoted\"\nsecond line");
    row.turn.agentHeard = row.turn.agentReply;
    row.turn.trace = QJsonObject{{QStringLiteral("stagesMs"), QJsonObject{{QStringLiteral("stt_final"), 120}}}};
    return row;
}

} // namespace

class TestHistory : public QObject
{
    Q_OBJECT

private:
    apex::test::PostgresServer m_postgres;
    QTemporaryDir m_dir;
    int m_sqliteFiles = 0;
    int m_connections = 0;

    // A fresh, empty history of the row's backend.
    HistoryUrl freshUrl()
    {
        QFETCH_GLOBAL(QString, backend);
        QString error;
        if (backend == QLatin1String("sqlite"))
            return HistoryUrl::parse(QStringLiteral("sqlite://") + m_dir.filePath(QStringLiteral("h%1.sqlite").arg(++m_sqliteFiles)), &error);
        const HistoryUrl url = HistoryUrl::parse(m_postgres.url(), &error);
        SqlHistoryStore store(url, QStringLiteral("reset"));
        if (store.open(&error)) {
            QSqlQuery query(QSqlDatabase::database(QStringLiteral("reset")));
            query.exec(QStringLiteral("DROP TABLE IF EXISTS turns, conversations, schema_version"));
        }
        return url;
    }

    std::unique_ptr<SqlHistoryStore> reader(const HistoryUrl &url)
    {
        auto store = std::make_unique<SqlHistoryStore>(url, QStringLiteral("reader%1").arg(++m_connections));
        QString error;
        if (!store->open(&error))
            qWarning() << error;
        return store;
    }

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        QTest::newRow("postgresql") << QStringLiteral("postgresql");
    }

    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_postgres.start(), qPrintable(m_postgres.errorString()));
    }

    void urlsParseAndNeverShowThePassword()
    {
        QString error;
        const HistoryUrl pg = HistoryUrl::parse(QStringLiteral("postgresql://apex:s3cr%40t@db.local:6543/calls?sslmode=require"), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(pg.backend, HistoryUrl::Backend::Postgres);
        QCOMPARE(pg.password, QStringLiteral("s3cr@t"));
        QCOMPARE(pg.port, 6543);
        QCOMPARE(pg.database, QStringLiteral("calls"));
        QCOMPARE(pg.options, QStringLiteral("sslmode=require"));
        QVERIFY(!pg.display().contains(QStringLiteral("s3cr")));
        QCOMPARE(HistoryUrl::parse(QStringLiteral("sqlite:///var/lib/apex/history.sqlite"), &error).path,
                 QStringLiteral("/var/lib/apex/history.sqlite"));
        QVERIFY(!HistoryUrl::parse(QStringLiteral("off"), &error).isEnabled());
        HistoryUrl::parse(QStringLiteral("mysql://x"), &error);
        QVERIFY(!error.isEmpty());
    }

    void schemaIsCreatedOnceAndVersioned()
    {
        const HistoryUrl url = freshUrl();
        for (int i = 0; i < 2; ++i) { // a restart finds the schema in place
            auto store = reader(url);
            QVERIFY(store->isOpen());
        }
        auto store = reader(url);
        QSqlQuery query(QSqlDatabase::database(QStringLiteral("reader%1").arg(m_connections)));
        QVERIFY(query.exec(QStringLiteral("SELECT version FROM schema_version")));
        int rows = 0;
        while (query.next()) {
            QCOMPARE(query.value(0).toInt(), SqlHistoryStore::kSchemaVersion);
            ++rows;
        }
        QCOMPARE(rows, 1);
    }

    void aCallAndAChatAreStoredWithTheirTurnsAndTraces()
    {
        const HistoryUrl url = freshUrl();
        {
            HistoryWriter::Settings settings;
            settings.url = url;
            HistoryRecorder recorder(settings);
            QSignalSpy committed(&recorder.writer(), &HistoryWriter::committed);
            recorder.callStarted(QStringLiteral("dental"), QStringLiteral("CA1"), QStringLiteral("+15550001"));
            recorder.turnEnded(QStringLiteral("dental"), QStringLiteral("CA1"),
                               sampleTrace(1, QStringLiteral("What are your opening hours?"), QStringLiteral("We open at nine.")),
                               QJsonObject{{QStringLiteral("llm"), QStringLiteral("faq")}});
            TurnTrace cut = sampleTrace(2, QStringLiteral("Do you have parking?"), QStringLiteral("Yes, behind the building. It is free."));
            cut.stampNow(TurnStage::BargeIn);
            cut.replyHeard = QStringLiteral("Yes, behind the building.");
            recorder.turnEnded(QStringLiteral("dental"), QStringLiteral("CA1"), cut, {});
            recorder.callEnded(QStringLiteral("dental"), QStringLiteral("CA1"), QStringLiteral("caller_hung_up"));
            recorder.chatTurn(QStringLiteral("dental"), QStringLiteral("9198@c.us"), QStringLiteral("hi\nare you open?"),
                              QStringLiteral("Yes, until six."), {});
            recorder.chatTurn(QStringLiteral("dental"), QStringLiteral("9198@c.us"), QStringLiteral("thanks"), QStringLiteral("You're welcome."), {});
            QTRY_COMPARE_WITH_TIMEOUT(recorder.writer().written(), std::uint64_t(6), 10000);
            QCOMPARE(recorder.writer().dropped(), std::uint64_t(0));
        }
        auto store = reader(url);
        QString error;
        const auto conversations = store->recentCalls(QStringLiteral("dental"), 10, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(conversations.size(), 2);
        const HistoryConversation *call = nullptr, *chat = nullptr;
        for (const auto &c : conversations)
            (c.channel == HistoryChannel::Call ? call : chat) = &c;
        QVERIFY(call && chat);
        QCOMPARE(call->conversationId, QStringLiteral("CA1"));
        QCOMPARE(call->peer, QStringLiteral("+15550001"));
        QCOMPARE(call->endReason, QStringLiteral("caller_hung_up"));
        QVERIFY(call->durationMs() >= 0);
        QCOMPARE(call->turns.size(), 2);
        QCOMPARE(call->turns[0].callerText, QStringLiteral("What are your opening hours?"));
        QCOMPARE(call->turns[0].agentHeard, QStringLiteral("We open at nine."));
        QCOMPARE(call->turns[0].providers.value(QStringLiteral("llm")).toString(), QStringLiteral("faq"));
        QCOMPARE(call->turns[0].trace.value(QStringLiteral("stagesMs")).toObject().value(QStringLiteral("first_frame_out")).toDouble(), 300.0);
        QCOMPARE(call->turns[1].agentReply, QStringLiteral("Yes, behind the building. It is free."));
        QCOMPARE(call->turns[1].agentHeard, QStringLiteral("Yes, behind the building."));
        QCOMPARE(chat->peer, QStringLiteral("9198@c.us"));
        QCOMPARE(chat->turns.size(), 2);
        QCOMPARE(chat->turns[0].callerText, QStringLiteral("hi\nare you open?"));
        QCOMPARE(chat->turns[1].agentReply, QStringLiteral("You're welcome."));
    }

    void retentionDeletesOnlyWhatIsDue()
    {
        const HistoryUrl url = freshUrl();
        auto store = reader(url);
        const QDateTime now = QDateTime::currentDateTimeUtc();
        QString error;
        QVERIFY2(store->write({turnRow(QStringLiteral("a"), QStringLiteral("old"), now.addDays(-40), 1),
                               turnRow(QStringLiteral("a"), QStringLiteral("recent"), now.addDays(-10), 1),
                               turnRow(QStringLiteral("b"), QStringLiteral("old-b"), now.addDays(-40), 1)},
                              &error),
                 qPrintable(error));
        // A chat that began long ago but is still in use stays whole.
        QVERIFY(store->write({turnRow(QStringLiteral("a"), QStringLiteral("long-chat"), now.addDays(-60), 1),
                              turnRow(QStringLiteral("a"), QStringLiteral("long-chat"), now.addDays(-1), 2)},
                             &error));
        QCOMPARE(store->deleteBefore(QStringLiteral("a"), now.addDays(-30), &error), 1);
        QStringList left;
        for (const auto &c : store->recentCalls(QStringLiteral("a"), 10, &error))
            left << c.conversationId + QLatin1Char(':') + QString::number(c.turns.size());
        left.sort();
        QCOMPARE(left, (QStringList{QStringLiteral("long-chat:2"), QStringLiteral("recent:1")}));
        // Tenant b keeps its old call: retention is per tenant.
        QCOMPARE(store->recentCalls(QStringLiteral("b"), 10, &error).size(), 1);
    }

    void theWriterAppliesRetentionAtStart()
    {
        const HistoryUrl url = freshUrl();
        QString error;
        {
            auto store = reader(url);
            QVERIFY(store->write({turnRow(QStringLiteral("a"), QStringLiteral("old"), QDateTime::currentDateTimeUtc().addDays(-8), 1),
                                  turnRow(QStringLiteral("a"), QStringLiteral("new"), QDateTime::currentDateTimeUtc(), 1)},
                                 &error));
        }
        HistoryWriter::Settings settings;
        settings.url = url;
        settings.retentionDays.insert(QStringLiteral("a"), 7);
        HistoryWriter writer(settings);
        QSignalSpy applied(&writer, &HistoryWriter::retentionApplied);
        writer.start();
        QTRY_COMPARE_WITH_TIMEOUT(applied.size(), 1, 10000);
        QCOMPARE(applied[0][1].toInt(), 1);
        auto store = reader(url);
        QCOMPARE(store->recentCalls(QStringLiteral("a"), 10, &error).size(), 1);
    }

    void exportRoundTripsAndHoldsOnlyTheTenant()
    {
        const HistoryUrl url = freshUrl();
        const QDateTime day(QDate(2026, 3, 14), QTime(10, 0), Qt::UTC);
        QString error;
        {
            auto store = reader(url);
            QVERIFY(store->write({turnRow(QStringLiteral("a"), QStringLiteral("CA-a1"), day, 1),
                                  turnRow(QStringLiteral("a"), QStringLiteral("CA-a1"), day.addSecs(5), 2),
                                  turnRow(QStringLiteral("a"), QStringLiteral("CA-a-later"), day.addDays(5), 1),
                                  turnRow(QStringLiteral("b"), QStringLiteral("CA-b1"), day, 1)},
                                 &error));
        }
        QBuffer jsonl;
        jsonl.open(QIODevice::WriteOnly);
        QVERIFY2(HistoryExport::run(url, QStringLiteral("a"), day.date(), day.date(), HistoryExportFormat::Jsonl, jsonl, &error),
                 qPrintable(error));
        const QList<QByteArray> lines = jsonl.data().trimmed().split('\n');
        QCOMPARE(lines.size(), 1); // the later call is outside the range, b's is another tenant's
        const QJsonObject call = QJsonDocument::fromJson(lines[0]).object();
        QCOMPARE(call.value(QStringLiteral("tenant")).toString(), QStringLiteral("a"));
        QCOMPARE(call.value(QStringLiteral("id")).toString(), QStringLiteral("CA-a1"));
        QCOMPARE(QDateTime::fromString(call.value(QStringLiteral("startedAt")).toString(), Qt::ISODateWithMs), day);
        const QJsonArray turns = call.value(QStringLiteral("turns")).toArray();
        QCOMPARE(turns.size(), 2);
        QCOMPARE(turns[1].toObject().value(QStringLiteral("agent")).toString(), QStringLiteral("agent, \"quoted\"\nsecond line"));
        QCOMPARE(turns[0].toObject().value(QStringLiteral("trace")).toObject().value(QStringLiteral("stagesMs")).toObject()
                     .value(QStringLiteral("stt_final")).toInt(), 120);

        QBuffer csv;
        csv.open(QIODevice::WriteOnly);
        QVERIFY(HistoryExport::run(url, QStringLiteral("a"), day.date(), day.date().addDays(10), HistoryExportFormat::Csv, csv, &error));
        const QByteArray text = csv.data();
        QVERIFY(text.startsWith(HistoryExport::csvHeader().join(QLatin1Char(',')).toUtf8() + "\r\n"));
        QCOMPARE(text.count("\r\n"), 1 + 3); // header, two turns of CA-a1, one of CA-a-later
        QVERIFY(text.contains("\"agent, \"\"quoted\"\"\nsecond line\""));
        QVERIFY(!text.contains("CA-b1"));

        QBuffer other;
        other.open(QIODevice::WriteOnly);
        QVERIFY(HistoryExport::run(url, QStringLiteral("b"), day.date().addDays(-365), day.date().addDays(365), HistoryExportFormat::Jsonl, other, &error));
        QVERIFY(other.data().contains("CA-b1"));
        QVERIFY(!other.data().contains("CA-a"));
    }

    void aDatabaseThatIsDownCostsBoundedMemoryAndCountsDrops()
    {
        QFETCH_GLOBAL(QString, backend);
        QString error;
        HistoryWriter::Settings settings;
        // Nobody listens there / a file that cannot be created.
        settings.url = HistoryUrl::parse(backend == QLatin1String("sqlite")
                                             ? QStringLiteral("sqlite:///proc/apex-no-such-dir/history.sqlite")
                                             : QStringLiteral("postgresql://apex:pw@127.0.0.1:%1/postgres").arg(apex::test::freeLoopbackPort()),
                                         &error);
        settings.queueCapacity = 5;
        settings.exitWaitMs = 0;
        HistoryWriter writer(settings);
        writer.start();
        int accepted = 0;
        for (int i = 0; i < 20; ++i)
            accepted += writer.record(turnRow(QStringLiteral("a"), QStringLiteral("x"), QDateTime::currentDateTimeUtc(), i)) ? 1 : 0;
        QCOMPARE(accepted, 5);
        QCOMPARE(writer.dropped(), std::uint64_t(15));
        QVERIFY(writer.queued() <= 5);
        QVERIFY(!writer.isHealthy());
    }

    void cleanupTestCase() { m_postgres.stop(); }
};

QTEST_GUILESS_MAIN(TestHistory)
#include "test_history.moc"
