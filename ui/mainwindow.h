#pragma once

#include <QMainWindow>

class QAction;
class QDockWidget;
class QLabel;

namespace apex {

class CallMonitor;
class CallsView;
class DemoCallAction;
class EngineHost;
class TranscriptView;
class TurnLatencyView;

// The console's frame: composes the views around one CallMonitor and wires the
// selection between them. Holds no call logic; everything shown comes from
// the monitor's models and EngineHost's queued signals.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    // `monitor` must outlive the window. `host` may be null (a console fed by a
    // monitor alone, as in tests): the demo action is then disabled.
    explicit MainWindow(CallMonitor *monitor, EngineHost *host = nullptr, QWidget *parent = nullptr);

    QAction *demoCallAction() const;

private:
    QDockWidget *addDock(QWidget *view, const QString &title, Qt::DockWidgetArea area);
    void showDemoResult(const QString &summary, bool ok);

    CallsView *m_calls;
    TranscriptView *m_transcript;
    TurnLatencyView *m_turnLatency;
    DemoCallAction *m_demoCall;
    QLabel *m_listenLabel;
};

} // namespace apex
