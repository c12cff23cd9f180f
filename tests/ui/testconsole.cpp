// The console window over a CallMonitor fed by hand: no engine, so the views'
// wiring (selection, follow-the-newest, partial styling) is tested alone.

#include "ui/mainwindow.h"
#include "ui/transcriptdelegate.h"

#include "host/calllistmodel.h"
#include "host/callmonitor.h"
#include "host/transcriptmodel.h"

#include <QAction>
#include <QApplication>
#include <QItemSelectionModel>
#include <QLabel>
#include <QListView>
#include <QScrollBar>
#include <QStatusBar>
#include <QTableView>
#include <QTest>

#include "calltestdata.h"

using namespace apex;

namespace {

using Speaker = TranscriptLine::Speaker;

TranscriptLine line(Speaker speaker, const QString &text, bool isFinal = true, int turn = 0)
{
    return test::transcriptLine(speaker, text, isFinal, turn);
}

TurnTrace turn(int index, const QString &utterance, double sttMs, double tokenMs, double frameMs)
{
    return test::tracedTurn(index, utterance,
                            {{TurnStage::SttFinal, sttMs}, {TurnStage::ResponderStart, sttMs + 1},
                             {TurnStage::FirstToken, tokenMs}, {TurnStage::FirstSentence, tokenMs + 60},
                             {TurnStage::TtsStart, tokenMs + 61}, {TurnStage::FirstFrameOut, frameMs}});
}

// Exposes the style the delegate gives a row, which is otherwise only painted.
class DelegateProbe : public TranscriptDelegate
{
public:
    QStyleOptionViewItem styleFor(const QModelIndex &index) const
    {
        QStyleOptionViewItem option;
        option.palette = QApplication::palette();
        initStyleOption(&option, index);
        return option;
    }
};

// A call as the engine would report it: greeting, two answered questions, a
// caller who is speaking right now.
void feedCall(CallMonitor &monitor, const QString &callId, const QString &tenant)
{
    monitor.onCallStarted(callId, tenant);
    monitor.onStateChanged(callId, CallState::Greeting);
    monitor.onTranscript(callId, line(Speaker::Agent, QStringLiteral("Thank you for calling Acme Dental, how can I help?")));
    monitor.onStateChanged(callId, CallState::Listening);
    monitor.onTranscript(callId, line(Speaker::Caller, QStringLiteral("what are"), false, 1));
    monitor.onTranscript(callId, line(Speaker::Caller, QStringLiteral("what are your opening hours"), true, 1));
    monitor.onTranscript(callId, line(Speaker::Agent, QStringLiteral("We are open Monday to Friday, nine to five."), true, 1));
    monitor.onTurnCompleted(callId, turn(1, QStringLiteral("what are your opening hours"), 118, 342, 611));
    monitor.onTranscript(callId, line(Speaker::Caller, QStringLiteral("do you take new patients"), true, 2));
    monitor.onTranscript(callId, line(Speaker::Agent, QStringLiteral("Yes, we are accepting new patients."), true, 2));
    monitor.onTurnCompleted(callId, turn(2, QStringLiteral("do you take new patients"), 104, 298, 540));
    monitor.onTranscript(callId, line(Speaker::Caller, QStringLiteral("and can I book for"), false, 3));
    monitor.onStateChanged(callId, CallState::Listening);
}

} // namespace

class TestConsole : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void composesViewsWithoutEngine();
    void newestCallIsSelectedAndFillsViews();
    void selectingAnotherCallSwitchesViews();
    void callerPartialIsGreyAndItalic();
    void transcriptFollowsNewLinesUnlessScrolledUp();
    void screenshot();

private:
    struct Console
    {
        CallMonitor monitor;
        MainWindow window{&monitor};
        QTableView *calls = window.findChild<QTableView *>(QStringLiteral("callsView"));
        QListView *transcript = window.findChild<QListView *>(QStringLiteral("transcriptView"));
        QTableView *turns = window.findChild<QTableView *>(QStringLiteral("turnLatencyView"));
    };
};

void TestConsole::composesViewsWithoutEngine()
{
    Console console;
    QCOMPARE(console.window.windowTitle(), QStringLiteral("APEX console"));
    QVERIFY(console.calls);
    QVERIFY(console.transcript);
    QVERIFY(console.turns);
    auto *demo = console.window.findChild<QAction *>(QStringLiteral("demoCallAction"));
    QVERIFY(demo);
    QCOMPARE(demo, console.window.demoCallAction());
    QVERIFY(!demo->isEnabled());
    auto *listen = console.window.findChild<QLabel *>(QStringLiteral("listenLabel"));
    QVERIFY(listen);
    QCOMPARE(listen->text(), QStringLiteral("No engine attached"));
}

void TestConsole::newestCallIsSelectedAndFillsViews()
{
    Console console;
    console.window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&console.window));

    feedCall(console.monitor, QStringLiteral("CA-first"), QStringLiteral("acme-dental"));
    QCOMPARE(console.calls->model()->rowCount(), 1);
    // Selection of a new call is queued behind the insert.
    QTRY_COMPARE(console.transcript->model()->rowCount(), 6);
    QCOMPARE(console.calls->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(console.calls->selectionModel()->selectedRows().first().row(), 0);
    QCOMPARE(console.turns->model()->rowCount(), 2);
    QCOMPARE(console.turns->model()->index(1, 0).data().toString(), QStringLiteral("do you take new patients"));

    // Live updates of the selected call reach the views without reselecting.
    console.monitor.onTranscript(QStringLiteral("CA-first"),
                                 line(Speaker::Caller, QStringLiteral("and can I book for Tuesday"), true, 3));
    QCOMPARE(console.transcript->model()->rowCount(), 6);
    QCOMPARE(console.transcript->model()->index(5, 0).data(TranscriptModel::TextRole).toString(),
             QStringLiteral("and can I book for Tuesday"));

    // A second call appears on top and does not steal the operator's selection.
    feedCall(console.monitor, QStringLiteral("CA-second"), QStringLiteral("acme-dental"));
    QCOMPARE(console.calls->model()->rowCount(), 2);
    QCOMPARE(console.calls->model()->index(0, 0).data(CallListModel::CallIdRole).toString(), QStringLiteral("CA-second"));
    QTest::qWait(20);
    QCOMPARE(console.calls->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(console.calls->selectionModel()->selectedRows().first().data(CallListModel::CallIdRole).toString(),
             QStringLiteral("CA-first"));
    QCOMPARE(console.transcript->model()->rowCount(), 6);
}

void TestConsole::selectingAnotherCallSwitchesViews()
{
    Console console;
    console.window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&console.window));
    feedCall(console.monitor, QStringLiteral("CA-first"), QStringLiteral("acme-dental"));
    QTRY_COMPARE(console.transcript->model()->rowCount(), 6);

    console.monitor.onCallStarted(QStringLiteral("CA-second"), QStringLiteral("globex"));
    console.monitor.onTranscript(QStringLiteral("CA-second"), line(Speaker::Agent, QStringLiteral("Globex, hello.")));

    // The operator clicks the second call: the newest, on top.
    const QRect rowRect = console.calls->visualRect(console.calls->model()->index(0, CallListModel::TenantColumn));
    QVERIFY(rowRect.isValid());
    QTest::mouseClick(console.calls->viewport(), Qt::LeftButton, {}, rowRect.center());
    QCOMPARE(console.calls->selectionModel()->selectedRows().first().data(CallListModel::CallIdRole).toString(),
             QStringLiteral("CA-second"));
    QCOMPARE(console.transcript->model()->rowCount(), 1);
    QCOMPARE(console.transcript->model()->index(0, 0).data(TranscriptModel::TextRole).toString(),
             QStringLiteral("Globex, hello."));
    QCOMPARE(console.turns->model()->rowCount(), 0);

    console.monitor.onTurnCompleted(QStringLiteral("CA-second"), turn(1, QStringLiteral("hello?"), 90, 250, 480));
    QCOMPARE(console.turns->model()->rowCount(), 1);
}

void TestConsole::callerPartialIsGreyAndItalic()
{
    Console console;
    feedCall(console.monitor, QStringLiteral("CA-first"), QStringLiteral("acme-dental"));
    QTRY_COMPARE(console.transcript->model()->rowCount(), 6);
    QAbstractItemModel *model = console.transcript->model();
    const QModelIndex partial = model->index(5, 0);
    const QModelIndex callerFinal = model->index(1, 0);
    const QModelIndex agent = model->index(2, 0);
    QVERIFY(!partial.data(TranscriptModel::IsFinalRole).toBool());

    DelegateProbe probe;
    const QStyleOptionViewItem partialStyle = probe.styleFor(partial);
    const QStyleOptionViewItem finalStyle = probe.styleFor(callerFinal);
    const QStyleOptionViewItem agentStyle = probe.styleFor(agent);
    QVERIFY(partialStyle.font.italic());
    QVERIFY(!finalStyle.font.italic());
    QVERIFY(!agentStyle.font.italic());
    QCOMPARE(partialStyle.palette.color(QPalette::Text), QApplication::palette().color(QPalette::Disabled, QPalette::Text));
    QCOMPARE(agentStyle.palette.color(QPalette::Text), QApplication::palette().color(QPalette::Text));
    QVERIFY(qobject_cast<TranscriptDelegate *>(console.transcript->itemDelegate()));
}

void TestConsole::transcriptFollowsNewLinesUnlessScrolledUp()
{
    Console console;
    console.window.resize(900, 500);
    console.window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&console.window));
    const QString callId = QStringLiteral("CA-long");
    console.monitor.onCallStarted(callId, QStringLiteral("acme-dental"));
    QTRY_VERIFY(console.calls->selectionModel()->hasSelection()); // queued behind the insert
    for (int i = 0; i < 60; ++i)
        console.monitor.onTranscript(callId, line(i % 2 ? Speaker::Agent : Speaker::Caller, QStringLiteral("line %1").arg(i)));
    QScrollBar *bar = console.transcript->verticalScrollBar();
    QTRY_VERIFY(bar->maximum() > 0);
    QTRY_COMPARE(bar->value(), bar->maximum());

    // The operator scrolls up to read: new lines must not yank the view away.
    bar->setValue(0);
    console.monitor.onTranscript(callId, line(Speaker::Caller, QStringLiteral("one more")));
    QTest::qWait(50);
    QCOMPARE(bar->value(), 0);

    // Back at the bottom, following resumes.
    bar->setValue(bar->maximum());
    console.monitor.onTranscript(callId, line(Speaker::Agent, QStringLiteral("and another")));
    QTRY_COMPARE(bar->value(), bar->maximum());
}

void TestConsole::screenshot()
{
    Console console;
    console.window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&console.window));
    feedCall(console.monitor, QStringLiteral("CA3f9b2e71"), QStringLiteral("acme-dental"));
    console.monitor.onStateChanged(QStringLiteral("CA3f9b2e71"), CallState::Ended);
    feedCall(console.monitor, QStringLiteral("CA81c04d2a"), QStringLiteral("globex"));
    QTRY_COMPARE(console.transcript->model()->rowCount(), 6);
    QTest::qWait(50); // let the queued scroll-to-bottom and layout settle

    const QString path = qEnvironmentVariable("APEX_CONSOLE_SCREENSHOT", QStringLiteral("/tmp/apex-console.png"));
    QVERIFY(console.window.grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));
}

int main(int argc, char *argv[])
{
    // ctest runs every suite offscreen; when a display is there (CI runs the
    // suite under xvfb-run) use it, so the real platform plugin is exercised.
    if (!qEnvironmentVariableIsEmpty("DISPLAY") && !qEnvironmentVariableIsSet("APEX_TEST_KEEP_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "xcb");
    QApplication app(argc, argv);
    TestConsole test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "testconsole.moc"
