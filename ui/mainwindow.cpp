#include "ui/mainwindow.h"

#include "ui/callsview.h"
#include "ui/democallaction.h"
#include "ui/enginestatusview.h"
#include "ui/providersview.h"
#include "ui/transcriptview.h"
#include "ui/turnlatencyview.h"
#include "ui/turnwaterfallview.h"

#include "host/callmonitor.h"
#include "host/enginehost.h"

#include <QCloseEvent>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>

namespace apex {

namespace {
constexpr int kDemoResultShownMs = 30'000;
constexpr int kLayoutVersion = 1; // bump when docks are renamed, so an old layout is not half-applied
const QString kGeometryKey = QStringLiteral("mainWindow/geometry");
const QString kStateKey = QStringLiteral("mainWindow/state");
} // namespace

MainWindow::MainWindow(CallMonitor *monitor, EngineHost *host, QWidget *parent)
    : QMainWindow(parent)
    , m_monitor(monitor)
    , m_calls(new CallsPanel(monitor))
    , m_transcript(new TranscriptView(monitor))
    , m_turnLatency(new TurnLatencyView(monitor))
    , m_waterfall(new TurnWaterfallView(monitor))
    , m_providers(new ProvidersView(host))
    , m_demoCall(new DemoCallAction(host, this))
    , m_listenLabel(new QLabel)
{
    setWindowTitle(tr("APEX console"));
    setObjectName(QStringLiteral("mainWindow"));

    setCentralWidget(m_transcript);
    QDockWidget *callsDock = addDock(m_calls, tr("Calls"), Qt::LeftDockWidgetArea);
    QDockWidget *turnLatencyDock = addDock(m_turnLatency, tr("Turn latency"), Qt::BottomDockWidgetArea);
    QDockWidget *waterfallDock = addDock(m_waterfall, tr("Waterfall"), Qt::BottomDockWidgetArea);
    splitDockWidget(turnLatencyDock, waterfallDock, Qt::Horizontal);
    QDockWidget *statusDock = addDock(new EngineStatusView(host), tr("Engine status"), Qt::RightDockWidgetArea);
    QDockWidget *providersDock = addDock(m_providers, tr("Providers"), Qt::RightDockWidgetArea);
    tabifyDockWidget(statusDock, providersDock);
    statusDock->raise();

    connect(m_calls->view(), &CallsView::callSelected, m_transcript, &TranscriptView::setCallId);
    connect(m_calls->view(), &CallsView::callSelected, m_turnLatency, &TurnLatencyView::setCallId);
    connect(m_calls->view(), &CallsView::callSelected, m_waterfall, &TurnWaterfallView::setCallId);

    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    QAction *quit = fileMenu->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    quit->setObjectName(QStringLiteral("quitAction"));
    QMenu *callMenu = menuBar()->addMenu(tr("&Call"));
    callMenu->addAction(m_demoCall);
    QMenu *viewMenu = menuBar()->addMenu(tr("&View"));
    viewMenu->setObjectName(QStringLiteral("viewMenu"));
    for (QDockWidget *dock : std::as_const(m_docks))
        viewMenu->addAction(dock->toggleViewAction());

    QToolBar *toolBar = addToolBar(tr("Calls"));
    toolBar->setObjectName(QStringLiteral("mainToolBar"));
    toolBar->setMovable(false);
    toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    toolBar->addAction(m_demoCall);

    m_listenLabel->setObjectName(QStringLiteral("listenLabel"));
    m_listenLabel->setText(host ? tr("Listening on %1").arg(host->listenAddress()) : tr("No engine attached"));
    statusBar()->addPermanentWidget(m_listenLabel);

    connect(m_demoCall, &DemoCallAction::started, this,
            [this] { statusBar()->showMessage(tr("Demo call running…")); });
    connect(m_demoCall, &DemoCallAction::finished, this, &MainWindow::showDemoResult);
    if (host) {
        connect(host, &EngineHost::engineError, this,
                [this](const QString &message) { statusBar()->showMessage(tr("Engine error: %1").arg(message)); });
    }

    resize(1280, 760);
    resizeDocks({callsDock}, {560}, Qt::Horizontal);
    resizeDocks({turnLatencyDock}, {220}, Qt::Vertical);
}

QAction *MainWindow::demoCallAction() const
{
    return m_demoCall;
}

QDockWidget *MainWindow::addDock(QWidget *view, const QString &title, Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(view->objectName() + QStringLiteral("Dock"));
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetFloatable);
    dock->setWidget(view);
    addDockWidget(area, dock);
    m_docks.append(dock);
    return dock;
}

int MainWindow::liveCalls() const
{
    int live = 0;
    for (int row = 0; row < m_monitor->count(); ++row)
        live += m_monitor->at(row).isLive() ? 1 : 0;
    return live;
}

bool MainWindow::askBeforeHangingUp(QWidget *window, int liveCalls)
{
    QMessageBox box(QMessageBox::Warning, tr("Quit APEX console"),
                    tr("%n call(s) are still live. Quitting hangs them up.", nullptr, liveCalls), QMessageBox::NoButton,
                    window);
    box.setInformativeText(tr("The engine runs inside the console: the callers will hear the line go dead."));
    QPushButton *quit = box.addButton(tr("Hang up and quit"), QMessageBox::DestructiveRole);
    box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    return box.clickedButton() == quit;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    const int live = liveCalls();
    if (live > 0 && m_confirmQuit && !m_confirmQuit(this, live)) {
        event->ignore();
        return;
    }
    saveLayout();
    event->accept();
}

bool MainWindow::restoreLayout()
{
    if (!m_settings)
        return false;
    const bool geometry = restoreGeometry(m_settings->value(kGeometryKey).toByteArray());
    const bool state = restoreState(m_settings->value(kStateKey).toByteArray(), kLayoutVersion);
    return geometry || state;
}

void MainWindow::saveLayout() const
{
    if (!m_settings)
        return;
    m_settings->setValue(kGeometryKey, saveGeometry());
    m_settings->setValue(kStateKey, saveState(kLayoutVersion));
    m_settings->sync();
}

void MainWindow::showDemoResult(const QString &summary, bool ok)
{
    // The summary is the whole call as text, ending with what the caller
    // heard; the status bar gets that last line and the rest waits in the tooltip.
    const QString lastLine = summary.section(QLatin1Char('\n'), -1, -1, QString::SectionSkipEmpty).trimmed();
    const QString verdict = ok ? tr("Demo call finished") : tr("Demo call failed");
    statusBar()->showMessage(lastLine.isEmpty() ? verdict : verdict + QStringLiteral(": ") + lastLine,
                             kDemoResultShownMs);
    statusBar()->setToolTip(summary);
}

} // namespace apex
