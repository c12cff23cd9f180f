#pragma once

#include <QList>
#include <QMainWindow>

#include <functional>

class QAction;
class QDockWidget;
class QLabel;
class QSettings;

namespace apex {

class CallMonitor;
class CallsPanel;
class CallsView;
class DemoCallAction;
class EngineHost;
class ProvidersView;
class TranscriptView;
class TurnLatencyView;
class TurnWaterfallView;

// The console's frame: composes the views around one CallMonitor and wires the
// selection between them. Holds no call logic; everything shown comes from
// the monitor's models and EngineHost's queued signals.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    // Asked before the window closes while calls are live; true lets it close
    // (closing the console hangs those calls up). Replaceable so tests need no
    // modal dialog.
    using QuitConfirmation = std::function<bool(QWidget *window, int liveCalls)>;

    // `monitor` must outlive the window. `host` may be null (a console fed by a
    // monitor alone, as in tests): the demo action is then disabled.
    explicit MainWindow(CallMonitor *monitor, EngineHost *host = nullptr, QWidget *parent = nullptr);

    QAction *demoCallAction() const;
    QList<QDockWidget *> docks() const { return m_docks; }

    void setQuitConfirmation(QuitConfirmation confirm) { m_confirmQuit = std::move(confirm); }
    static bool askBeforeHangingUp(QWidget *window, int liveCalls); // the default: a question box

    // Geometry and dock layout: restored once at start, saved when the window
    // closes. `settings` must outlive the window; null: nothing is remembered.
    void setSettings(QSettings *settings) { m_settings = settings; }
    bool restoreLayout();
    void saveLayout() const;

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    QDockWidget *addDock(QWidget *view, const QString &title, Qt::DockWidgetArea area);
    void showDemoResult(const QString &summary, bool ok);
    int liveCalls() const;

    CallMonitor *m_monitor;
    CallsPanel *m_calls;
    TranscriptView *m_transcript;
    TurnLatencyView *m_turnLatency;
    TurnWaterfallView *m_waterfall;
    ProvidersView *m_providers;
    DemoCallAction *m_demoCall;
    QLabel *m_listenLabel;
    QList<QDockWidget *> m_docks;
    QuitConfirmation m_confirmQuit = &MainWindow::askBeforeHangingUp;
    QSettings *m_settings = nullptr;
};

} // namespace apex
