// The host's models under QAbstractItemModelTester while a CallMonitor is fed
// a scripted call, the way the engine's queued signals would feed it.

#include "host/calllistmodel.h"
#include "host/callmonitor.h"
#include "host/transcriptmodel.h"
#include "host/turnlatencymodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "calltestdata.h"

using namespace apex;

namespace {

using Speaker = TranscriptLine::Speaker;

TranscriptLine line(Speaker speaker, const QString &text, bool isFinal = true, int turn = 0)
{
    return test::transcriptLine(speaker, text, isFinal, turn);
}

TurnTrace turn(int index, const QString &utterance, std::initializer_list<std::pair<TurnStage, double>> stages)
{
    return test::tracedTurn(index, utterance, stages);
}

QString cell(const QAbstractItemModel &model, int row, int column, int role = Qt::DisplayRole)
{
    return model.index(row, column).data(role).toString();
}

} // namespace

class TestUiModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void callListFollowsCalls();
    void transcriptReplacesPartialInPlace();
    void transcriptDropsPartialThatCameToNothing();
    void transcriptShowsTheUnheardPartOfACutReply();
    void transcriptFollowsOnlyItsCall();
    void turnLatencyShowsStagesInMs();
    void trimmingForgetsOldestEndedCall();
    void trimmingKeepsLiveCalls();
};

void TestUiModels::callListFollowsCalls()
{
    CallMonitor monitor;
    CallListModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    QCOMPARE(model.columnCount(), int(CallListModel::ColumnCount));
    QCOMPARE(model.headerData(CallListModel::StateColumn, Qt::Horizontal).toString(), QStringLiteral("State"));

    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme")); // repeated: ignored
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(cell(model, 0, CallListModel::CallColumn), QStringLiteral("CA1"));
    QCOMPARE(cell(model, 0, CallListModel::TenantColumn), QStringLiteral("acme"));
    QCOMPARE(cell(model, 0, CallListModel::StateColumn), QStringLiteral("connecting"));
    QCOMPARE(model.index(0, CallListModel::StateColumn).data(CallListModel::CallIdRole).toString(), QStringLiteral("CA1"));
    QVERIFY(model.index(0, 0).data(CallListModel::IsLiveRole).toBool());

    monitor.onStateChanged(QStringLiteral("CA1"), CallState::Listening);
    QCOMPARE(cell(model, 0, CallListModel::StateColumn), QStringLiteral("listening"));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex(), model.index(0, 0));
    QCOMPARE(changed.first().at(1).toModelIndex(), model.index(0, CallListModel::ColumnCount - 1));

    monitor.onStateChanged(QStringLiteral("nobody"), CallState::Speaking); // unknown call: no change
    QCOMPARE(changed.count(), 1);

    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(0, QStringLiteral("hours?"), {{TurnStage::FirstFrameOut, 612.4}}));
    QCOMPARE(model.index(0, CallListModel::TurnsColumn).data().toInt(), 1);
    QCOMPARE(cell(model, 0, CallListModel::LastLatencyColumn), QStringLiteral("612 ms"));
    // A turn that was barged in before any audio left keeps the last real latency.
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(1, QStringLiteral("wait"), {{TurnStage::BargeIn, 90}}));
    QCOMPARE(model.index(0, CallListModel::TurnsColumn).data().toInt(), 2);
    QCOMPARE(cell(model, 0, CallListModel::LastLatencyColumn), QStringLiteral("612 ms"));

    monitor.onCallStarted(QStringLiteral("CA2"), QStringLiteral("globex"));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(cell(model, 1, CallListModel::CallColumn), QStringLiteral("CA2"));

    monitor.onStateChanged(QStringLiteral("CA1"), CallState::Ended);
    QCOMPARE(cell(model, 0, CallListModel::StateColumn), QStringLiteral("ended"));
    QVERIFY(!model.index(0, 0).data(CallListModel::IsLiveRole).toBool());
    QVERIFY(model.index(1, 0).data(CallListModel::IsLiveRole).toBool());
}

void TestUiModels::transcriptReplacesPartialInPlace()
{
    CallMonitor monitor;
    TranscriptModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    model.setCallId(QStringLiteral("CA1"));
    QCOMPARE(model.callId(), QStringLiteral("CA1"));
    QCOMPARE(model.rowCount(), 0);

    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Agent, QStringLiteral("Hello, Acme here."), true, 0));
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("what"), false, 1));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(inserted.count(), 2);
    QVERIFY(!model.index(1).data(TranscriptModel::IsFinalRole).toBool());
    QVERIFY(model.index(0).data(TranscriptModel::IsFinalRole).toBool());
    QCOMPARE(model.index(1).data(TranscriptModel::SpeakerRole).toString(), QStringLiteral("Caller"));
    QCOMPARE(model.index(0).data(TranscriptModel::SpeakerRole).toString(), QStringLiteral("Agent"));

    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("what are your"), false, 1));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.last().at(0).toModelIndex(), model.index(1));
    QCOMPARE(model.index(1).data(TranscriptModel::TextRole).toString(), QStringLiteral("what are your"));
    QVERIFY(!model.index(1).data(TranscriptModel::IsFinalRole).toBool());

    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("what are your hours"), true, 1));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(changed.count(), 2);
    QCOMPARE(model.index(1).data(TranscriptModel::TextRole).toString(), QStringLiteral("what are your hours"));
    QCOMPARE(model.index(1).data().toString(), QStringLiteral("Caller: what are your hours"));
    QVERIFY(model.index(1).data(TranscriptModel::IsFinalRole).toBool());
    QCOMPARE(model.index(1).data(TranscriptModel::TurnRole).toInt(), 1);

    // A final is never replaced: the next caller words start a new row.
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Agent, QStringLiteral("We open at nine."), true, 1));
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("and on"), false, 2));
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("and on sundays"), true, 2));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(inserted.count(), 4);
    QCOMPARE(model.index(3).data(TranscriptModel::TextRole).toString(), QStringLiteral("and on sundays"));
    QCOMPARE(reset.count(), 0);

    // Switching calls resets; switching back shows the whole transcript again.
    model.setCallId(QStringLiteral("nobody"));
    QCOMPARE(model.rowCount(), 0);
    model.setCallId(QStringLiteral("CA1"));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(reset.count(), 2);
}

void TestUiModels::transcriptShowsTheUnheardPartOfACutReply()
{
    CallMonitor monitor;
    TranscriptModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    model.setCallId(QStringLiteral("CA1"));
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("when are you open"), true, 1));
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Agent, QStringLiteral("We open at nine. We close at six."), true, 1));
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("wait"), false, 1));
    QCOMPARE(model.rowCount(), 3);

    // The barge-in's line replaces the turn's agent line in place.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    TranscriptLine cut = line(Speaker::Agent, QStringLiteral("We open at nine. We close at six."), true, 1);
    cut.heardChars = QStringLiteral("We open at nine.").size();
    monitor.onTranscript(QStringLiteral("CA1"), cut);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex(), model.index(1));
    QCOMPARE(model.index(1).data(TranscriptModel::TextRole).toString(), QStringLiteral("We open at nine. We close at six."));
    QCOMPARE(model.index(1).data(TranscriptModel::HeardTextRole).toString(), QStringLiteral("We open at nine."));
    QCOMPARE(model.index(1).data(TranscriptModel::UnheardTextRole).toString(), QStringLiteral("We close at six."));
    QCOMPARE(model.index(1).data().toString(), QStringLiteral("Agent: We open at nine. [not heard: We close at six.]"));
    QCOMPARE(model.index(0).data(TranscriptModel::UnheardTextRole).toString(), QString());

    // A reply cut before it was shown at all gets a row of its own.
    TranscriptLine early = line(Speaker::Agent, QStringLiteral("Sorry about that."), true, 2);
    early.heardChars = 0;
    monitor.onTranscript(QStringLiteral("CA1"), early);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.index(3).data(TranscriptModel::HeardTextRole).toString(), QString());
    QCOMPARE(model.index(3).data(TranscriptModel::UnheardTextRole).toString(), QStringLiteral("Sorry about that."));
}

void TestUiModels::transcriptDropsPartialThatCameToNothing()
{
    CallMonitor monitor;
    TranscriptModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    model.setCallId(QStringLiteral("CA1"));
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);

    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("uh"), false));
    QCOMPARE(model.rowCount(), 1);
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QString(), true));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(removed.count(), 1);

    // An empty line on its own adds nothing.
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Agent, QString(), true));
    QCOMPARE(model.rowCount(), 0);
}

void TestUiModels::transcriptFollowsOnlyItsCall()
{
    CallMonitor monitor;
    TranscriptModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // Selected before the call exists (the console may learn the id first).
    model.setCallId(QStringLiteral("CA2"));
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    monitor.onCallStarted(QStringLiteral("CA2"), QStringLiteral("acme"));
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);

    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("not mine"), true));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(inserted.count(), 0);
    monitor.onTranscript(QStringLiteral("CA2"), line(Speaker::Caller, QStringLiteral("mine"), true));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0).data(TranscriptModel::TextRole).toString(), QStringLiteral("mine"));
}

void TestUiModels::turnLatencyShowsStagesInMs()
{
    CallMonitor monitor;
    TurnLatencyModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    monitor.onCallStarted(QStringLiteral("CA2"), QStringLiteral("acme"));
    model.setCallId(QStringLiteral("CA1"));

    // Utterance plus every stage after end of speech.
    QCOMPARE(model.columnCount(), kTurnStageCount);
    QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("Caller said"));
    QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QStringLiteral("endpointed (ms)"));
    QCOMPARE(model.headerData(2, Qt::Horizontal).toString(), QStringLiteral("stt_final (ms)"));
    QCOMPARE(model.headerData(10, Qt::Horizontal).toString(), QStringLiteral("first_frame_out (ms)"));
    QCOMPARE(model.headerData(0, Qt::Vertical).toInt(), 1);

    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(0, QStringLiteral("what are your hours"),
                                                        {{TurnStage::Endpointed, 100},
                                                         {TurnStage::SttFinal, 120},
                                                         {TurnStage::ResponderStart, 121.5},
                                                         {TurnStage::FirstToken, 310},
                                                         {TurnStage::FirstSentence, 402.25},
                                                         {TurnStage::TtsStart, 403},
                                                         {TurnStage::FirstFrameOut, 655}}));
    monitor.onTurnCompleted(QStringLiteral("CA2"), turn(0, QStringLiteral("other call"), {}));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(cell(model, 0, 0), QStringLiteral("what are your hours"));
    QCOMPARE(cell(model, 0, 1), QStringLiteral("100.0"));
    QCOMPARE(cell(model, 0, 2), QStringLiteral("120.0"));
    QCOMPARE(cell(model, 0, 3), QStringLiteral("121.5"));
    QCOMPARE(cell(model, 0, 10), QStringLiteral("655.0"));
    QCOMPARE(model.index(0, 10).data(Qt::UserRole).toDouble(), 655.0);
    QVERIFY(!model.index(0, 11).data().isValid()); // no barge-in: blank
    QCOMPARE(model.index(0, 11).data(Qt::UserRole).toDouble(), -1.0);

    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(1, QStringLiteral("stop"), {{TurnStage::BargeIn, 80}}));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(cell(model, 1, 11), QStringLiteral("80.0"));
    QVERIFY(!model.index(1, 10).data().isValid());

    model.setCallId(QStringLiteral("CA2"));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(cell(model, 0, 0), QStringLiteral("other call"));
}

void TestUiModels::trimmingForgetsOldestEndedCall()
{
    CallMonitor monitor;
    monitor.setHistoryLimit(2);
    CallListModel calls(&monitor);
    TranscriptModel transcript(&monitor);
    TurnLatencyModel turns(&monitor);
    QAbstractItemModelTester callsTester(&calls, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester transcriptTester(&transcript, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester turnsTester(&turns, QAbstractItemModelTester::FailureReportingMode::QtTest);

    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    monitor.onTranscript(QStringLiteral("CA1"), line(Speaker::Caller, QStringLiteral("hi"), true));
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(0, QStringLiteral("hi"), {{TurnStage::FirstFrameOut, 500}}));
    monitor.onStateChanged(QStringLiteral("CA1"), CallState::Ended);
    monitor.onCallStarted(QStringLiteral("CA2"), QStringLiteral("acme"));
    transcript.setCallId(QStringLiteral("CA1"));
    turns.setCallId(QStringLiteral("CA1"));
    QCOMPARE(transcript.rowCount(), 1);
    QCOMPARE(turns.rowCount(), 1);

    QSignalSpy removed(&calls, &QAbstractItemModel::rowsRemoved);
    monitor.onCallStarted(QStringLiteral("CA3"), QStringLiteral("acme"));
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.first().at(1).toInt(), 0);
    QCOMPARE(calls.rowCount(), 2);
    QCOMPARE(cell(calls, 0, CallListModel::CallColumn), QStringLiteral("CA2"));
    QCOMPARE(cell(calls, 1, CallListModel::CallColumn), QStringLiteral("CA3"));
    QCOMPARE(monitor.rowOf(QStringLiteral("CA3")), 1);
    QVERIFY(!monitor.find(QStringLiteral("CA1")));
    // Views that showed the forgotten call go blank rather than read a dead record.
    QCOMPARE(transcript.rowCount(), 0);
    QVERIFY(transcript.callId().isEmpty());
    QCOMPARE(turns.rowCount(), 0);

    // Later updates still land on the right rows after the renumbering.
    monitor.onStateChanged(QStringLiteral("CA3"), CallState::Speaking);
    QCOMPARE(cell(calls, 1, CallListModel::StateColumn), QStringLiteral("speaking"));
    QCOMPARE(cell(calls, 0, CallListModel::StateColumn), QStringLiteral("connecting"));
}

void TestUiModels::trimmingKeepsLiveCalls()
{
    CallMonitor monitor;
    monitor.setHistoryLimit(2);
    CallListModel calls(&monitor);
    QAbstractItemModelTester tester(&calls, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (const char *id : {"CA1", "CA2", "CA3"})
        monitor.onCallStarted(QString::fromLatin1(id), QStringLiteral("acme"));
    // All live: none may be forgotten, the limit only bounds history.
    QCOMPARE(calls.rowCount(), 3);
    monitor.onStateChanged(QStringLiteral("CA2"), CallState::Ended);
    monitor.onCallStarted(QStringLiteral("CA4"), QStringLiteral("acme"));
    QCOMPARE(calls.rowCount(), 3);
    QCOMPARE(cell(calls, 0, CallListModel::CallColumn), QStringLiteral("CA1"));
    QCOMPARE(cell(calls, 1, CallListModel::CallColumn), QStringLiteral("CA3"));
    QCOMPARE(cell(calls, 2, CallListModel::CallColumn), QStringLiteral("CA4"));
}

QTEST_GUILESS_MAIN(TestUiModels)
#include "testuimodels.moc"
