#include "ui/democallaction.h"

#include "host/enginehost.h"

namespace apex {

DemoCallAction::DemoCallAction(EngineHost *host, QObject *parent)
    : QAction(tr("Demo call"), parent)
    , m_host(host)
{
    setObjectName(QStringLiteral("demoCallAction"));
    setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    if (!host) {
        setEnabled(false);
        setToolTip(tr("No engine in this console to place a demo call"));
        return;
    }
    setToolTip(tr("Place a simulated call against this engine"));
    connect(this, &QAction::triggered, this, &DemoCallAction::place);
    connect(host, &EngineHost::demoCallFinished, this, &DemoCallAction::onFinished);
}

void DemoCallAction::place()
{
    if (m_running || !m_host)
        return;
    m_running = true;
    setEnabled(false);
    setText(tr("Demo call running…"));
    Q_EMIT started();
    m_host->placeDemoCall();
}

void DemoCallAction::onFinished(const QString &summary, bool ok)
{
    m_running = false;
    setEnabled(true);
    setText(tr("Demo call"));
    Q_EMIT finished(summary, ok);
}

} // namespace apex
