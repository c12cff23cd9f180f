#pragma once

#include <QObject>

class QSocketNotifier;

namespace apex {

// Turns SIGINT and SIGTERM into QCoreApplication::quit() on the main thread, so
// the engine thread is stopped in order (quit, wait, sessions closed) instead of
// the process dying mid-frame. The handler only writes a byte to a socket pair:
// nothing else is safe inside a signal handler. One per process.
class QuitOnSignals : public QObject
{
    Q_OBJECT
public:
    explicit QuitOnSignals(QObject *parent = nullptr);
    ~QuitOnSignals() override;

private:
    static void handle(int signal);
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace apex
