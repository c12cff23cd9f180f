#pragma once

#include <QObject>

#include <functional>

class QSocketNotifier;

namespace apex {

// Turns SIGINT and SIGTERM (and SIGHUP, when asked) into QCoreApplication::quit() (or a reload) on the main thread, so
// the engine thread is stopped in order (quit, wait, sessions closed) instead of
// the process dying mid-frame. With a graceful stop given, the first signal
// runs it instead (e.g. drain live calls, then quit) and a second one quits at
// once. The handler only writes a byte to a socket pair: nothing else is safe
// inside a signal handler. One per process.
class QuitOnSignals : public QObject
{
    Q_OBJECT
public:
    explicit QuitOnSignals(QObject *parent = nullptr);
    explicit QuitOnSignals(std::function<void()> gracefulStop, QObject *parent = nullptr);
    ~QuitOnSignals() override;

    // SIGHUP (systemctl reload) runs `reload` on the main thread.
    void onReload(std::function<void()> reload);

private:
    static void handle(int signal);
    std::function<void()> m_gracefulStop;
    std::function<void()> m_reload;
    bool m_stopping = false;
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace apex
