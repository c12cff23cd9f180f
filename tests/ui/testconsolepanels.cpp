// The console's panels and frame without an engine: the calls filter, the
// providers dock fed canned /stats, the quit question, the View menu, the
// remembered layout, the start-up error dialogs, and a grab of each new panel
// empty and with data (checked through the widget tree, never by pixels).

#include "ui/callsview.h"
#include "ui/mainwindow.h"
#include "ui/providersview.h"
#include "ui/startuperrors.h"
#include "ui/turnlatencyview.h"
#include "ui/turnwaterfallview.h"

#include "host/callfilterproxymodel.h"
#include "host/calllistmodel.h"
#include "host/callmonitor.h"
#include "host/turnlatencymodel.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "calltestdata.h"

using namespace apex;

namespace {

const char kStatsWithOpenBreaker[] = R"({
  "liveCalls": 2,
  "governance": {
    "breakers": [
      {"provider": "groq", "endpoint": "api.groq.com", "state": "open", "failureThreshold": 5,
       "consecutiveFailures": 5, "totalFailures": 6, "timesOpened": 1,
       "lastError": "HTTP 503 Service Unavailable", "nextProbeInSeconds": 21.2},
      {"provider": "azure", "endpoint": "westeurope", "state": "closed", "failureThreshold": 3,
       "consecutiveFailures": 0, "totalFailures": 0, "timesOpened": 0, "lastError": "", "nextProbeInSeconds": 0}
    ],
    "llmConcurrency": {"limit": 4, "inFlight": 3, "refused": 2, "decreases": 1, "blockedForSeconds": 0},
    "tenantQuotas": [{"tenant": "acme-dental", "inUse": 2, "quota": 3, "refused": 1}]
  },
  "whatsapp": {"tenants": {"acme-dental": {"state": "OK", "detail": "", "since": "2026-12-07T09:30:00.000"}}}
})";

QJsonObject stats(const char *json)
{
    return QJsonDocument::fromJson(json).object();
}

QString cell(const QTableWidget *table, int row, int column)
{
    const QTableWidgetItem *item = table ? table->item(row, column) : nullptr;
    return item ? item->text() : QString();
}

// Every text a widget tree shows: labels, table cells, headers, combo items.
QStringList shownTexts(const QWidget *root)
{
    QStringList texts;
    for (const QLabel *label : root->findChildren<QLabel *>())
        if (label->isVisibleTo(root))
            texts << label->text();
    for (const QAbstractItemView *view : root->findChildren<QAbstractItemView *>()) {
        if (!view->isVisibleTo(root) || !view->model())
            continue;
        const QAbstractItemModel *model = view->model();
        for (int c = 0; c < model->columnCount(); ++c)
            texts << model->headerData(c, Qt::Horizontal).toString();
        for (int r = 0; r < model->rowCount(); ++r)
            for (int c = 0; c < model->columnCount(); ++c)
                texts << model->index(r, c).data().toString();
    }
    return texts;
}

bool shows(const QWidget *root, const QString &text)
{
    for (const QString &shown : shownTexts(root))
        if (shown.contains(text))
            return true;
    return false;
}

// Grabs `widget` and saves it beside the others for a human to look at; the
// test only asks that the grab is not empty.
void grab(QWidget *widget, const QString &name)
{
    const QPixmap pixmap = widget->grab();
    QVERIFY(!pixmap.isNull());
    QVERIFY(pixmap.width() > 50 && pixmap.height() > 50);
    const QString dir = qEnvironmentVariable("APEX_SCREENSHOT_DIR", QStringLiteral("/tmp"));
    pixmap.save(dir + QStringLiteral("/apex-") + name + QStringLiteral(".png"));
}

void feedCall(CallMonitor &monitor, const QString &callId, const QString &tenant, const QString &from)
{
    monitor.onCallStarted(callId, tenant);
    monitor.onCallParties(callId, from, QStringLiteral("+15559990000"));
    monitor.onStateChanged(callId, CallState::Listening);
    monitor.onTurnCompleted(callId, test::tracedTurn(1, QStringLiteral("what are your opening hours"),
                                                     {{TurnStage::Endpointed, 250}, {TurnStage::SttFinal, 290},
                                                      {TurnStage::ResponderStart, 291}, {TurnStage::LlmRequestSent, 293},
                                                      {TurnStage::FirstToken, 420}, {TurnStage::FirstSentence, 470},
                                                      {TurnStage::TtsStart, 471}, {TurnStage::TtsFirstAudio, 590},
                                                      {TurnStage::FirstFrameOut, 596}}));
}

} // namespace

class TestConsolePanels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void callsFilterShowsLiveOrEnded();
    void providersEmptyStateSaysWhatWillAppear();
    void providersShowOpenBreakerAndItsError();
    void closingWithLiveCallsAsksFirst();
    void viewMenuBringsBackAClosedDock();
    void layoutSurvivesARestart();
    void startupErrorsSayWhatAndWhere();
    void waterfallShowsStagesWithFiguresOnHover();
    void screenshots();
};

void TestConsolePanels::callsFilterShowsLiveOrEnded()
{
    CallMonitor monitor;
    CallsPanel panel(&monitor);
    feedCall(monitor, QStringLiteral("CA1"), QStringLiteral("acme"), QStringLiteral("+15551110001"));
    feedCall(monitor, QStringLiteral("CA2"), QStringLiteral("acme"), QStringLiteral("+15551110002"));
    monitor.onStateChanged(QStringLiteral("CA1"), CallState::Ended);
    auto *filter = panel.findChild<QComboBox *>(QStringLiteral("callFilter"));
    QVERIFY(filter);
    QCOMPARE(panel.view()->model()->rowCount(), 2);
    filter->setCurrentIndex(filter->findText(QStringLiteral("Live")));
    QCOMPARE(panel.view()->model()->rowCount(), 1);
    QCOMPARE(panel.view()->model()->index(0, CallListModel::NumberColumn).data().toString(), QStringLiteral("+15551110002"));
    filter->setCurrentIndex(filter->findText(QStringLiteral("Ended")));
    QCOMPARE(panel.view()->model()->rowCount(), 1);
    QCOMPARE(panel.view()->model()->index(0, CallListModel::NumberColumn).data().toString(), QStringLiteral("+15551110001"));
}

void TestConsolePanels::providersEmptyStateSaysWhatWillAppear()
{
    ProvidersView view(nullptr);
    view.show();
    auto *empty = view.findChild<QLabel *>(QStringLiteral("providersEmptyLabel"));
    QVERIFY(empty);
    QVERIFY(empty->isVisible());
    QVERIFY2(empty->text().contains(QStringLiteral("circuit breaker")), qPrintable(empty->text()));
    QVERIFY(empty->text().contains(QStringLiteral("next probe")));

    // The engine answered but no cloud provider was called yet.
    view.apply(stats(R"({"liveCalls": 0, "governance": {"breakers": [], "llmConcurrency": {"limit": 8, "inFlight": 0}}})"));
    QVERIFY(empty->isVisible());
    QVERIFY2(empty->text().contains(QStringLiteral("No cloud provider has been called yet")), qPrintable(empty->text()));
    QCOMPARE(view.findChild<QLabel *>(QStringLiteral("llmConcurrencyLabel"))->text(),
             QStringLiteral("Limit 8, in flight 0, refused 0"));
    QVERIFY(view.findChild<QLabel *>(QStringLiteral("whatsAppLabel"))->text().contains(QStringLiteral("WAHA_URL")));
}

void TestConsolePanels::providersShowOpenBreakerAndItsError()
{
    ProvidersView view(nullptr);
    view.show();
    view.apply(stats(kStatsWithOpenBreaker));
    QVERIFY(!view.findChild<QLabel *>(QStringLiteral("providersEmptyLabel"))->isVisible());
    const auto *breakers = view.findChild<QTableWidget *>(QStringLiteral("breakersTable"));
    QVERIFY(breakers);
    QCOMPARE(breakers->rowCount(), 2);
    QCOMPARE(cell(breakers, 0, 0), QStringLiteral("groq"));
    QCOMPARE(cell(breakers, 0, 2), QStringLiteral("open"));
    QCOMPARE(cell(breakers, 0, 5), QStringLiteral("HTTP 503 Service Unavailable"));
    QCOMPARE(cell(breakers, 0, 4), QStringLiteral("in 21 s"));
    QVERIFY(cell(breakers, 0, 3).startsWith(QStringLiteral("5 of 5")));
    QCOMPARE(cell(breakers, 1, 2), QStringLiteral("closed"));
    QVERIFY(cell(breakers, 1, 4).isEmpty()); // a closed breaker has no probe
    // Open and closed look different, not only read different.
    QVERIFY(breakers->item(0, 2)->background().color() != breakers->item(1, 2)->background().color());

    QCOMPARE(view.findChild<QLabel *>(QStringLiteral("llmConcurrencyLabel"))->text(),
             QStringLiteral("Limit 4, in flight 3, refused 2"));
    const auto *quotas = view.findChild<QTableWidget *>(QStringLiteral("quotasTable"));
    QCOMPARE(quotas->rowCount(), 1);
    QCOMPARE(cell(quotas, 0, 2), QStringLiteral("3"));
    const auto *whatsApp = view.findChild<QTableWidget *>(QStringLiteral("whatsAppTable"));
    QCOMPARE(whatsApp->rowCount(), 1);
    QCOMPARE(cell(whatsApp, 0, 1), QStringLiteral("OK"));

    // The breaker closes again: the next snapshot says so.
    QJsonObject healed = stats(kStatsWithOpenBreaker);
    QJsonObject governance = healed.value(QStringLiteral("governance")).toObject();
    governance.insert(QStringLiteral("breakers"), QJsonArray{});
    healed.insert(QStringLiteral("governance"), governance);
    view.apply(healed);
    QCOMPARE(breakers->rowCount(), 0);
}

void TestConsolePanels::closingWithLiveCallsAsksFirst()
{
    CallMonitor monitor;
    MainWindow window(&monitor);
    int asked = 0;
    bool answer = false;
    int liveSeen = 0;
    window.setQuitConfirmation([&](QWidget *, int live) {
        ++asked;
        liveSeen = live;
        return answer;
    });
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    // No live call: closes without a question.
    monitor.onCallStarted(QStringLiteral("CA-old"), QStringLiteral("acme"));
    monitor.onStateChanged(QStringLiteral("CA-old"), CallState::Ended);
    QVERIFY(window.close());
    QCOMPARE(asked, 0);

    window.show();
    monitor.onCallStarted(QStringLiteral("CA-live"), QStringLiteral("acme"));
    // Refused: the window stays, with its call.
    QVERIFY(!window.close());
    QCOMPARE(asked, 1);
    QCOMPARE(liveSeen, 1);
    QVERIFY(window.isVisible());
    // Ctrl+Q goes the same way.
    auto *quit = window.findChild<QAction *>(QStringLiteral("quitAction"));
    QVERIFY(quit);
    QCOMPARE(quit->shortcut(), QKeySequence(QKeySequence::Quit));
    quit->trigger();
    QCOMPARE(asked, 2);
    QVERIFY(window.isVisible());
    // Confirmed: it closes.
    answer = true;
    QVERIFY(window.close());
    QCOMPARE(asked, 3);
    QVERIFY(!window.isVisible());
}

void TestConsolePanels::viewMenuBringsBackAClosedDock()
{
    CallMonitor monitor;
    MainWindow window(&monitor);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QMenu *viewMenu = window.menuBar()->findChild<QMenu *>(QStringLiteral("viewMenu"));
    QVERIFY(viewMenu);
    const QList<QDockWidget *> docks = window.docks();
    QCOMPARE(docks.size(), 5);
    for (QDockWidget *dock : docks) {
        QVERIFY2(viewMenu->actions().contains(dock->toggleViewAction()), qPrintable(dock->windowTitle()));
        dock->close();
        QVERIFY(!dock->isVisible());
        QVERIFY(!dock->toggleViewAction()->isChecked());
        dock->toggleViewAction()->trigger();
        QVERIFY2(dock->isVisible(), qPrintable(dock->windowTitle()));
    }
    QStringList titles;
    for (QAction *action : viewMenu->actions())
        titles << action->text();
    QVERIFY(titles.contains(QStringLiteral("Providers")));
}

void TestConsolePanels::layoutSurvivesARestart()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("console.ini"));
    CallMonitor monitor;
    {
        QSettings settings(path, QSettings::IniFormat);
        MainWindow window(&monitor);
        window.setSettings(&settings);
        QVERIFY(!window.restoreLayout()); // nothing saved yet
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.resize(1000, 640);
        QDockWidget *turns = window.findChild<QDockWidget *>(QStringLiteral("turnLatencyViewDock"));
        QVERIFY(turns);
        turns->close();
        QVERIFY(window.close()); // saves
    }
    QSettings settings(path, QSettings::IniFormat);
    QVERIFY(settings.contains(QStringLiteral("mainWindow/state")));
    QVERIFY(settings.contains(QStringLiteral("mainWindow/geometry")));
    MainWindow window(&monitor);
    window.setSettings(&settings);
    QVERIFY(window.restoreLayout());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QDockWidget *turns = window.findChild<QDockWidget *>(QStringLiteral("turnLatencyViewDock"));
    QVERIFY(!turns->isVisible()); // closed when the console quit, closed again
    QVERIFY(window.findChild<QDockWidget *>(QStringLiteral("callsPanelDock"))->isVisible());
    // Not the default 1280x760; X11 without a window manager may be a pixel off.
    QVERIFY2(qAbs(window.width() - 1000) <= 2 && qAbs(window.height() - 640) <= 2,
             qPrintable(QStringLiteral("%1x%2").arg(window.width()).arg(window.height())));
}

void TestConsolePanels::startupErrorsSayWhatAndWhere()
{
    const auto config = startup::configErrorBox(QStringLiteral("/etc/apex/apex.json"), QStringLiteral("line 3: missing comma"));
    QVERIFY(config->informativeText().contains(QStringLiteral("/etc/apex/apex.json")));
    QVERIFY(config->informativeText().contains(QStringLiteral("line 3: missing comma")));
    QVERIFY(config->findChild<QPushButton *>(QStringLiteral("openFolderButton")));

    const QString taken = QStringLiteral("cannot listen on 127.0.0.1:8080: The bound address is already in use");
    QVERIFY(startup::isListenFailure(taken));
    const auto port = startup::engineErrorBox(QStringLiteral("127.0.0.1:8080"), taken);
    QVERIFY(port->text().contains(QStringLiteral("127.0.0.1:8080")));
    QVERIFY(port->informativeText().contains(QStringLiteral("already in use")));
    QVERIFY(port->findChild<QPushButton *>(QStringLiteral("freePortButton")));
    QVERIFY(port->findChild<QPushButton *>(QStringLiteral("choosePortButton")));

    const auto other = startup::engineErrorBox(QStringLiteral("nonsense"), QStringLiteral("bad listen address \"nonsense\": no port"));
    QVERIFY(!other->findChild<QPushButton *>(QStringLiteral("freePortButton")));
    QVERIFY(other->informativeText().contains(QStringLiteral("bad listen address")));
}

void TestConsolePanels::waterfallShowsStagesWithFiguresOnHover()
{
    CallMonitor monitor;
    TurnWaterfallView view(&monitor);
    view.resize(800, 200);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(view.emptyText().contains(QStringLiteral("Select a call")));
    feedCall(monitor, QStringLiteral("CA1"), QStringLiteral("acme"), QStringLiteral("+15551230001"));
    view.setCallId(QStringLiteral("CA1"));
    QCOMPARE(view.turnCount(), 1);
    const QPoint token = view.segmentCenter(0, TurnLatencyModel::FirstTokenColumn);
    QVERIFY(!token.isNull());
    const QString tip = view.toolTipAt(token);
    QVERIFY2(tip.contains(QStringLiteral("First token: 130.0 ms, 290.0 to 420.0 ms")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("Turn total: 596.0 ms")), qPrintable(tip));
    // Stages are laid out left to right in order.
    QVERIFY(view.segmentCenter(0, TurnLatencyModel::EndpointingColumn).x() < token.x());
    QVERIFY(token.x() < view.segmentCenter(0, TurnLatencyModel::FirstFrameOutColumn).x());
    QVERIFY(view.toolTipAt(QPoint(1, 1)).isEmpty());

    // A new turn of the shown call is drawn without reselecting.
    monitor.onTurnCompleted(QStringLiteral("CA1"), test::tracedTurn(2, QStringLiteral("parking?"),
                                                                    {{TurnStage::Endpointed, 250}, {TurnStage::FirstFrameOut, 400}}));
    QCOMPARE(view.turnCount(), 2);
    QVERIFY(!view.segmentCenter(1, TurnLatencyModel::FirstFrameOutColumn).isNull());
}

void TestConsolePanels::screenshots()
{
    // Empty: each new panel says what will appear.
    CallMonitor monitor;
    monitor.setTenantNames({{QStringLiteral("acme-dental"), QStringLiteral("Acme Dental")}});
    CallsPanel calls(&monitor);
    calls.resize(760, 300);
    calls.show();
    ProvidersView providers(nullptr);
    providers.resize(640, 480);
    providers.show();
    TurnLatencyView turns(&monitor);
    turns.resize(900, 200);
    turns.show();
    TurnWaterfallView waterfall(&monitor);
    waterfall.resize(800, 200);
    waterfall.show();
    QVERIFY(QTest::qWaitForWindowExposed(&providers));
    grab(&calls, QStringLiteral("calls-empty"));
    grab(&providers, QStringLiteral("providers-empty"));
    grab(&turns, QStringLiteral("stages-empty"));
    grab(&waterfall, QStringLiteral("waterfall-empty"));
    QVERIFY(waterfall.emptyText().contains(QStringLiteral("one segment per stage")));
    QVERIFY(shows(&calls, QStringLiteral("Worst reply")));
    QVERIFY(shows(&providers, QStringLiteral("circuit breaker")));
    QVERIFY(shows(&turns, QStringLiteral("First frame out")));

    // With data.
    feedCall(monitor, QStringLiteral("CA3f9b2e71"), QStringLiteral("acme-dental"), QStringLiteral("+15551230001"));
    feedCall(monitor, QStringLiteral("CA81c04d2a"), QStringLiteral("acme-dental"), QStringLiteral("+15551230002"));
    monitor.onStateChanged(QStringLiteral("CA3f9b2e71"), CallState::Ended);
    providers.apply(stats(kStatsWithOpenBreaker));
    turns.setCallId(QStringLiteral("CA81c04d2a"));
    waterfall.setCallId(QStringLiteral("CA81c04d2a"));
    QTest::qWait(50);
    grab(&calls, QStringLiteral("calls"));
    grab(&providers, QStringLiteral("providers"));
    grab(&turns, QStringLiteral("stages"));
    grab(&waterfall, QStringLiteral("waterfall"));
    QCOMPARE(waterfall.turnCount(), 1);
    QVERIFY(shows(&calls, QStringLiteral("+15551230002")));
    QVERIFY(shows(&calls, QStringLiteral("Acme Dental")));
    QVERIFY(shows(&calls, QStringLiteral("596 ms")));
    QVERIFY(shows(&providers, QStringLiteral("HTTP 503 Service Unavailable")));
    QVERIFY(shows(&providers, QStringLiteral("open")));
    QVERIFY(shows(&turns, QStringLiteral("596.0"))); // the total
    QVERIFY(shows(&turns, QStringLiteral("130.0"))); // first token: 420 - 290 after the final transcript
}

int main(int argc, char *argv[])
{
    if (!qEnvironmentVariableIsEmpty("DISPLAY") && !qEnvironmentVariableIsSet("APEX_TEST_KEEP_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "xcb");
    QApplication app(argc, argv);
    TestConsolePanels test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "testconsolepanels.moc"
