#pragma once

#include <QAction>
#include <QPointer>

namespace apex {

class EngineHost;

// "Demo call": has the engine place a simulated call against itself. One at a
// time: disabled while a demo runs, and for good without an engine (a console
// watching someone else's calls has nothing to dial).
class DemoCallAction : public QAction
{
    Q_OBJECT
public:
    explicit DemoCallAction(EngineHost *host, QObject *parent = nullptr);

    bool isRunning() const { return m_running; }

Q_SIGNALS:
    void started();
    void finished(const QString &summary, bool ok);

private:
    void place();
    void onFinished(const QString &summary, bool ok);

    QPointer<EngineHost> m_host;
    bool m_running = false;
};

} // namespace apex
