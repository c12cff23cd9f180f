// The host's models under QAbstractItemModelTester while a CallMonitor is fed
// a scripted call, the way the engine's queued signals would feed it.

#include "host/callfilterproxymodel.h"
#include "host/calllistmodel.h"
#include "host/callmonitor.h"
#include "host/providerstatus.h"
#include "host/transcriptmodel.h"
#include "host/turnlatencymodel.h"

#include <QAbstractItemModelTester>
#include <QJsonDocument>
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
    void callListTellsCallsApart();
    void proxyFiltersLiveAndEnded();
    void proxySortsNewestFirstAndByWorstLatency();
    void turnLatencyShowsStageDurations();
    void turnLatencyDurationsSumToTheTotal();
    void providerStatusReadsStats();
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

void TestUiModels::callListTellsCallsApart()
{
    CallMonitor monitor;
    monitor.setTenantNames({{QStringLiteral("acme"), QStringLiteral("Acme Dental")}});
    CallListModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    QCOMPARE(cell(model, 0, CallListModel::NumberColumn), QStringLiteral("unknown"));
    QCOMPARE(cell(model, 0, CallListModel::TenantColumn), QStringLiteral("Acme Dental"));
    monitor.onCallParties(QStringLiteral("CA1"), QStringLiteral("+15551230001"), QStringLiteral("+15559990000"));
    QCOMPARE(cell(model, 0, CallListModel::NumberColumn), QStringLiteral("+15551230001"));
    // The call id stays at hand: its own column and every cell's tooltip.
    QCOMPARE(cell(model, 0, CallListModel::CallColumn), QStringLiteral("CA1"));
    QVERIFY(cell(model, 0, CallListModel::NumberColumn, Qt::ToolTipRole).contains(QStringLiteral("CA1")));
    QVERIFY(cell(model, 0, CallListModel::TenantColumn, Qt::ToolTipRole).contains(QStringLiteral("(acme)")));
    QVERIFY(cell(model, 0, CallListModel::StartedColumn).contains(QLatin1Char(':')));
    QCOMPARE(cell(model, 0, CallListModel::DurationColumn).left(2), QStringLiteral("0:"));

    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(0, QStringLiteral("a"), {{TurnStage::FirstFrameOut, 400}}));
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(1, QStringLiteral("b"), {{TurnStage::FirstFrameOut, 900}}));
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(2, QStringLiteral("c"), {{TurnStage::FirstFrameOut, 500}}));
    QCOMPARE(cell(model, 0, CallListModel::LastLatencyColumn), QStringLiteral("500 ms"));
    QCOMPARE(cell(model, 0, CallListModel::WorstLatencyColumn), QStringLiteral("900 ms"));
    QCOMPARE(model.index(0, CallListModel::WorstLatencyColumn).data(CallListModel::SortRole).toDouble(), 900.0);

    // A tenant renamed by a reload shows its new name on calls already listed.
    monitor.setTenantNames({{QStringLiteral("acme"), QStringLiteral("Acme Dental Care")}});
    QCOMPARE(cell(model, 0, CallListModel::TenantColumn), QStringLiteral("Acme Dental Care"));

    // An ended call's duration stops growing.
    monitor.onStateChanged(QStringLiteral("CA1"), CallState::Ended);
    const CallRecord *call = monitor.find(QStringLiteral("CA1"));
    QVERIFY(call->endedAt.isValid());
    QCOMPARE(call->durationMs(QDateTime::currentDateTime().addSecs(3600)), call->startedAt.msecsTo(call->endedAt));
}

void TestUiModels::proxyFiltersLiveAndEnded()
{
    CallMonitor monitor;
    CallListModel model(&monitor);
    CallFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (const char *id : {"CA1", "CA2", "CA3"})
        monitor.onCallStarted(QString::fromLatin1(id), QStringLiteral("acme"));
    monitor.onStateChanged(QStringLiteral("CA2"), CallState::Ended);
    QCOMPARE(proxy.rowCount(), 3);

    proxy.setCallFilter(CallFilterProxyModel::CallFilter::Live);
    QCOMPARE(proxy.rowCount(), 2);
    for (int row = 0; row < proxy.rowCount(); ++row)
        QVERIFY(proxy.index(row, 0).data(CallListModel::IsLiveRole).toBool());
    // A live call that ends leaves the live list at once.
    monitor.onStateChanged(QStringLiteral("CA3"), CallState::Ended);
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data(CallListModel::CallIdRole).toString(), QStringLiteral("CA1"));

    proxy.setCallFilter(CallFilterProxyModel::CallFilter::Ended);
    QCOMPARE(proxy.rowCount(), 2);
    monitor.onCallStarted(QStringLiteral("CA4"), QStringLiteral("acme")); // live: not listed
    QCOMPARE(proxy.rowCount(), 2);

    proxy.setCallFilter(CallFilterProxyModel::CallFilter::All);
    QCOMPARE(proxy.rowCount(), 4);
}

void TestUiModels::proxySortsNewestFirstAndByWorstLatency()
{
    CallMonitor monitor;
    CallListModel model(&monitor);
    CallFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const auto idAt = [&proxy](int row) { return proxy.index(row, 0).data(CallListModel::CallIdRole).toString(); };

    monitor.onCallStarted(QStringLiteral("CA-slow"), QStringLiteral("acme"));
    monitor.onCallStarted(QStringLiteral("CA-none"), QStringLiteral("acme"));
    monitor.onCallStarted(QStringLiteral("CA-fast"), QStringLiteral("acme"));
    // By default the newest call is on top, even when started in the same millisecond.
    QCOMPARE(idAt(0), QStringLiteral("CA-fast"));
    QCOMPARE(idAt(2), QStringLiteral("CA-slow"));
    monitor.onCallStarted(QStringLiteral("CA-new"), QStringLiteral("acme"));
    QCOMPARE(idAt(0), QStringLiteral("CA-new"));

    monitor.onTurnCompleted(QStringLiteral("CA-slow"), turn(0, QStringLiteral("a"), {{TurnStage::FirstFrameOut, 300}}));
    monitor.onTurnCompleted(QStringLiteral("CA-slow"), turn(1, QStringLiteral("b"), {{TurnStage::FirstFrameOut, 1500}}));
    monitor.onTurnCompleted(QStringLiteral("CA-fast"), turn(0, QStringLiteral("a"), {{TurnStage::FirstFrameOut, 700}}));
    monitor.onTurnCompleted(QStringLiteral("CA-new"), turn(0, QStringLiteral("a"), {{TurnStage::FirstFrameOut, 250}}));

    proxy.sort(CallListModel::WorstLatencyColumn, Qt::DescendingOrder);
    QCOMPARE(idAt(0), QStringLiteral("CA-slow"));
    QCOMPARE(idAt(1), QStringLiteral("CA-fast"));
    QCOMPARE(idAt(2), QStringLiteral("CA-new"));
    QCOMPARE(idAt(3), QStringLiteral("CA-none")); // no answered turn: below every figure

    // Sorted live: a new worst turn moves its call.
    monitor.onTurnCompleted(QStringLiteral("CA-new"), turn(1, QStringLiteral("b"), {{TurnStage::FirstFrameOut, 2000}}));
    QCOMPARE(idAt(0), QStringLiteral("CA-new"));

    proxy.sort(CallListModel::WorstLatencyColumn, Qt::AscendingOrder);
    QCOMPARE(idAt(0), QStringLiteral("CA-none"));
    QCOMPARE(idAt(1), QStringLiteral("CA-fast"));
}

void TestUiModels::turnLatencyShowsStageDurations()
{
    CallMonitor monitor;
    TurnLatencyModel model(&monitor);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    monitor.onCallStarted(QStringLiteral("CA2"), QStringLiteral("acme"));
    model.setCallId(QStringLiteral("CA1"));

    QCOMPARE(model.columnCount(), int(TurnLatencyModel::ColumnCount));
    const QStringList headers{QStringLiteral("Caller said"),    QStringLiteral("Endpointing"),     QStringLiteral("STT final"),
                              QStringLiteral("First token"),    QStringLiteral("First sentence"),  QStringLiteral("TTS first audio"),
                              QStringLiteral("First frame out"), QStringLiteral("Total")};
    for (int c = 0; c < headers.size(); ++c)
        QCOMPARE(model.headerData(c, Qt::Horizontal).toString(), headers.at(c));
    QCOMPARE(model.headerData(0, Qt::Vertical).toInt(), 1);

    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(0, QStringLiteral("what are your hours"),
                                                        {{TurnStage::Endpointed, 100},
                                                         {TurnStage::SttFinal, 120},
                                                         {TurnStage::ResponderStart, 121.5},
                                                         {TurnStage::LlmRequestSent, 130},
                                                         {TurnStage::FirstToken, 310},
                                                         {TurnStage::FirstSentence, 402.3},
                                                         {TurnStage::TtsStart, 403},
                                                         {TurnStage::TtsFirstAudio, 600},
                                                         {TurnStage::FirstFrameOut, 655}}));
    monitor.onTurnCompleted(QStringLiteral("CA2"), turn(0, QStringLiteral("other call"), {}));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(cell(model, 0, TurnLatencyModel::UtteranceColumn), QStringLiteral("what are your hours"));
    // Each stage's own time, not the time since the caller stopped.
    QCOMPARE(cell(model, 0, TurnLatencyModel::EndpointingColumn), QStringLiteral("100.0"));
    QCOMPARE(cell(model, 0, TurnLatencyModel::SttFinalColumn), QStringLiteral("20.0"));
    QCOMPARE(cell(model, 0, TurnLatencyModel::FirstTokenColumn), QStringLiteral("190.0"));
    QCOMPARE(cell(model, 0, TurnLatencyModel::FirstSentenceColumn), QStringLiteral("92.3"));
    QCOMPARE(cell(model, 0, TurnLatencyModel::TtsFirstAudioColumn), QStringLiteral("197.7"));
    QCOMPARE(cell(model, 0, TurnLatencyModel::FirstFrameOutColumn), QStringLiteral("55.0"));
    QCOMPARE(cell(model, 0, TurnLatencyModel::TotalColumn), QStringLiteral("655.0"));
    // The cumulative time is in the tooltip, with what the stage includes.
    const QString tip = cell(model, 0, TurnLatencyModel::FirstTokenColumn, Qt::ToolTipRole);
    QVERIFY2(tip.contains(QStringLiteral("310.0 ms after the caller's last word")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("the LLM's time to first token: 180.0 ms")), qPrintable(tip));
    QCOMPARE(model.index(0, TurnLatencyModel::FirstTokenColumn).data(TurnLatencyModel::CumulativeMsRole).toDouble(), 310.0);

    // A turn cut before any audio left: the stages that happened, a blank total.
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(1, QStringLiteral("stop"), {{TurnStage::Endpointed, 80}, {TurnStage::BargeIn, 90}}));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(cell(model, 1, TurnLatencyModel::EndpointingColumn), QStringLiteral("80.0"));
    QVERIFY(!model.index(1, TurnLatencyModel::TotalColumn).data().isValid());
    QCOMPARE(model.index(1, TurnLatencyModel::TotalColumn).data(TurnLatencyModel::DurationMsRole).toDouble(), -1.0);

    model.setCallId(QStringLiteral("CA2"));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(cell(model, 0, 0), QStringLiteral("other call"));
}

void TestUiModels::turnLatencyDurationsSumToTheTotal()
{
    CallMonitor monitor;
    TurnLatencyModel model(&monitor);
    monitor.onCallStarted(QStringLiteral("CA1"), QStringLiteral("acme"));
    model.setCallId(QStringLiteral("CA1"));
    // Whole, with stages missing (an FAQ answer has no LLM request, a cache
    // hit no TTS request) and with the first token missing altogether.
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(0, QStringLiteral("a"),
                                                        {{TurnStage::Endpointed, 250}, {TurnStage::SttFinal, 262.5},
                                                         {TurnStage::FirstToken, 270}, {TurnStage::FirstSentence, 271},
                                                         {TurnStage::TtsFirstAudio, 300.75}, {TurnStage::FirstFrameOut, 301}}));
    monitor.onTurnCompleted(QStringLiteral("CA1"), turn(1, QStringLiteral("b"),
                                                        {{TurnStage::Endpointed, 250}, {TurnStage::SttFinal, 400},
                                                         {TurnStage::FirstSentence, 650}, {TurnStage::FirstFrameOut, 900}}));
    QCOMPARE(model.rowCount(), 2);
    for (int row = 0; row < model.rowCount(); ++row) {
        double sum = 0;
        for (int c = TurnLatencyModel::EndpointingColumn; c <= TurnLatencyModel::FirstFrameOutColumn; ++c) {
            const double ms = model.index(row, c).data(TurnLatencyModel::DurationMsRole).toDouble();
            if (ms >= 0)
                sum += ms;
        }
        const double total = model.index(row, TurnLatencyModel::TotalColumn).data(TurnLatencyModel::DurationMsRole).toDouble();
        QVERIFY(total > 0);
        QVERIFY2(qAbs(sum - total) < 1e-6, qPrintable(QStringLiteral("row %1: %2 vs %3").arg(row).arg(sum).arg(total)));
    }
    QCOMPARE(cell(model, 1, TurnLatencyModel::FirstSentenceColumn), QStringLiteral("250.0"));
    QVERIFY(!model.index(1, TurnLatencyModel::FirstTokenColumn).data().isValid());
}

void TestUiModels::providerStatusReadsStats()
{
    const QJsonObject stats = QJsonDocument::fromJson(R"({
      "liveCalls": 1,
      "governance": {
        "breakers": [
          {"provider": "groq", "endpoint": "api.groq.com", "state": "open", "failureThreshold": 5,
           "consecutiveFailures": 5, "totalFailures": 7, "timesOpened": 2, "lastError": "HTTP 503",
           "nextProbeInSeconds": 12.4},
          {"provider": "azure", "endpoint": "westeurope", "state": "half-open", "failureThreshold": 3,
           "consecutiveFailures": 3, "totalFailures": 3, "timesOpened": 1, "lastError": "", "nextProbeInSeconds": 0}
        ],
        "llmConcurrency": {"limit": 4, "inFlight": 2, "refused": 9, "decreases": 1, "blockedForSeconds": 0},
        "tenantQuotas": [{"tenant": "acme", "inUse": 1, "quota": 3, "refused": 2}]
      },
      "whatsapp": {"tenants": {"acme": {"state": "CORE_LIMIT", "detail": "422", "since": "2026-12-07T10:00:00.000"}}}
    })").object();
    const ProviderStatus status = ProviderStatus::fromStats(stats);
    QVERIFY(status.engineAnswered);
    QCOMPARE(status.breakers.size(), 2);
    QCOMPARE(status.breakers.at(0).state, ProviderStatus::BreakerState::Open);
    QCOMPARE(status.breakers.at(0).lastError, QStringLiteral("HTTP 503"));
    QCOMPARE(status.breakers.at(0).totalFailures, 7);
    QCOMPARE(status.breakers.at(1).state, ProviderStatus::BreakerState::HalfOpen);
    QVERIFY(status.hasLlmConcurrency);
    QCOMPARE(status.llmLimit, 4);
    QCOMPARE(status.llmInFlight, 2);
    QCOMPARE(status.tenantQuotas.size(), 1);
    QCOMPARE(status.tenantQuotas.at(0).refused, 2);
    QVERIFY(status.whatsAppConfigured);
    QCOMPARE(status.whatsAppLines.at(0).state, QStringLiteral("CORE_LIMIT"));
    QVERIFY(status.whatsAppLines.at(0).since.isValid());

    const ProviderStatus none = ProviderStatus::fromStats({});
    QVERIFY(!none.engineAnswered);
    QVERIFY(none.breakers.isEmpty());
    QVERIFY(!none.whatsAppConfigured);
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
