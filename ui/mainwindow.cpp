#include "ui/mainwindow.h"

#include "ui/callsview.h"
#include "ui/democallaction.h"
#include "ui/enginestatusview.h"
#include "ui/transcriptview.h"
#include "ui/turnlatencyview.h"

#include "host/enginehost.h"

#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QStatusBar>
#include <QToolBar>

namespace apex {

namespace {
constexpr int kDemoResultShownMs = 30'000;
}

MainWindow::MainWindow(CallMonitor *monitor, EngineHost *host, QWidget *parent)
    : QMainWindow(parent)
    , m_calls(new CallsView(monitor))
    , m_transcript(new TranscriptView(monitor))
    , m_turnLatency(new TurnLatencyView(monitor))
    , m_demoCall(new DemoCallAction(host, this))
    , m_listenLabel(new QLabel)
{
    setWindowTitle(tr("APEX console"));
    setObjectName(QStringLiteral("mainWindow"));

    setCentralWidget(m_transcript);
    QDockWidget *callsDock = addDock(m_calls, tr("Calls"), Qt::LeftDockWidgetArea);
    QDockWidget *turnLatencyDock = addDock(m_turnLatency, tr("Turn latency"), Qt::BottomDockWidgetArea);
    addDock(new EngineStatusView(host), tr("Engine status"), Qt::RightDockWidgetArea);

    connect(m_calls, &CallsView::callSelected, m_transcript, &TranscriptView::setCallId);
    connect(m_calls, &CallsView::callSelected, m_turnLatency, &TurnLatencyView::setCallId);

    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    fileMenu->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu *callMenu = menuBar()->addMenu(tr("&Call"));
    callMenu->addAction(m_demoCall);
    QMenu *viewMenu = menuBar()->addMenu(tr("&View"));
    viewMenu->addAction(callsDock->toggleViewAction());
    viewMenu->addAction(turnLatencyDock->toggleViewAction());

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

    resize(1180, 720);
    resizeDocks({callsDock}, {430}, Qt::Horizontal);
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
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
    dock->setWidget(view);
    addDockWidget(area, dock);
    return dock;
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
