#include "host/enginehost.h"

#include "host/callmonitor.h"
#include "runtime/engine.h"
#include "host/calltext.h"
#include "observability/logging.h"
#include "democall/simulatedcaller.h"
#include "tts/embedded/embeddedsynthesizer.h"

#include <QMetaObject>
#include <QPointer>

#include <algorithm>

namespace apex {

namespace {
QHash<QString, QString> tenantNames(const EngineConfig &config)
{
    QHash<QString, QString> names;
    for (const Tenant &tenant : config.tenants)
        names.insert(tenant.id, tenant.name);
    return names;
}
} // namespace

EngineHost::EngineHost(EngineConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_monitor(new CallMonitor(this))
{
    m_monitor->setTenantNames(tenantNames(m_config));
    m_thread.setObjectName(QStringLiteral("apex-engine"));
}

EngineHost::~EngineHost()
{
    stop();
}

bool EngineHost::isRunning() const
{
    return m_engine != nullptr;
}

bool EngineHost::start(QString *error)
{
    if (m_engine)
        return true;
    m_engine = new Engine(m_config);
    m_engine->moveToThread(&m_thread);
    // The engine dies on its own thread, after the last event it had queued.
    connect(&m_thread, &QThread::finished, m_engine, &QObject::deleteLater);

    connect(m_engine, &Engine::callStarted, m_monitor, &CallMonitor::onCallStarted);
    connect(m_engine, &Engine::callParties, m_monitor, &CallMonitor::onCallParties);
    connect(m_engine, &Engine::callStateChanged, m_monitor, &CallMonitor::onStateChanged);
    connect(m_engine, &Engine::transcript, m_monitor, &CallMonitor::onTranscript);
    connect(m_engine, &Engine::turnCompleted, m_monitor, &CallMonitor::onTurnCompleted);
    connect(m_engine, &Engine::prewarmProgress, this, &EngineHost::prewarmProgress);
    connect(m_engine, &Engine::prewarmFinished, this, &EngineHost::prewarmFinished);
    connect(m_engine, &Engine::drained, this, &EngineHost::drained);
    connect(m_engine, &Engine::tenantsReloaded, this, &EngineHost::tenantsReloaded);

    m_thread.start();
    bool ok = false;
    QString startError;
    quint16 port = 0;
    QString host;
    // Start-up is the one time the embedding thread waits for the engine: it
    // must know whether the engine listens before it shows anything.
    QMetaObject::invokeMethod(
        m_engine,
        [&] {
            ok = m_engine->start(&startError);
            port = m_engine->port();
            host = m_engine->listenHost();
        },
        Qt::BlockingQueuedConnection);
    if (!ok) {
        if (error)
            *error = startError;
        stop();
        return false;
    }
    m_port = port;
    m_listenAddress = (host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host)
                      + QLatin1Char(':') + QString::number(port);
    return true;
}

void EngineHost::prewarm(const QString &tenantId)
{
    if (m_engine)
        QMetaObject::invokeMethod(m_engine, [engine = m_engine, tenantId] { engine->startPrewarm(tenantId); });
}

void EngineHost::cancelPrewarm(const QString &tenantId)
{
    if (m_engine)
        QMetaObject::invokeMethod(m_engine, [engine = m_engine, tenantId] { engine->cancelPrewarm(tenantId); });
}

void EngineHost::fetchStats(std::function<void(const QJsonObject &)> done)
{
    if (!m_engine) {
        done(QJsonObject());
        return;
    }
    QPointer<EngineHost> self(this);
    QMetaObject::invokeMethod(m_engine, [engine = m_engine, self, done] {
        const QJsonObject stats = engine->stats();
        if (self)
            QMetaObject::invokeMethod(self, [done, stats] { done(stats); });
    });
}

void EngineHost::drain()
{
    if (!m_engine) {
        Q_EMIT drained();
        return;
    }
    QMetaObject::invokeMethod(m_engine, [engine = m_engine, ms = m_config.drainMs] { engine->drain(ms); });
}

void EngineHost::reloadTenants(const EngineConfig &fresh)
{
    m_config.tenants = fresh.tenants;
    m_config.defaultTenantId = fresh.defaultTenantId;
    m_monitor->setTenantNames(tenantNames(m_config));
    if (!m_engine)
        return;
    QMetaObject::invokeMethod(m_engine, [engine = m_engine, tenants = fresh.tenants, defaultId = fresh.defaultTenantId] {
        engine->reloadTenants(tenants, defaultId);
    });
}

void EngineHost::stop()
{
    if (!m_thread.isRunning()) {
        delete m_engine;
        m_engine = nullptr;
        return;
    }
    m_thread.quit();
    m_thread.wait();
    m_engine = nullptr; // deleted by deleteLater as the thread finished
}

} // namespace apex

namespace apex {

void EngineHost::placeDemoCall(const QStringList &questions)
{
    if (!m_engine) {
        Q_EMIT demoCallFinished(tr("The engine is not running."), false);
        return;
    }
    QStringList asked = questions;
    const auto defaultTenant = std::find_if(m_config.tenants.cbegin(), m_config.tenants.cend(),
                                            [this](const Tenant &t) { return t.id == m_config.defaultTenantId; });
    if (asked.isEmpty() && defaultTenant != m_config.tenants.cend()) {
        for (const auto &entry : defaultTenant->faq) {
            asked << entry.question;
            if (asked.size() == 2)
                break;
        }
    }
    SimulatedCallerOptions options;
    options.port = m_port;
    options.host = m_listenAddress.section(QLatin1Char(':'), 0, -2).remove(QLatin1Char('[')).remove(QLatin1Char(']'));
    if (options.host == QLatin1String("0.0.0.0") || options.host.isEmpty())
        options.host = QStringLiteral("127.0.0.1");
    else if (options.host == QLatin1String("::"))
        options.host = QStringLiteral("::1");
    if (!m_config.providers.twilioAuthToken.isEmpty()) {
        // An engine that checks Twilio's signature takes only streams its own
        // webhook announced: the demo call goes through it, signed, as Twilio would.
        options.viaWebhook = true;
        options.authToken = m_config.providers.twilioAuthToken;
        if (!m_config.publicUrl.isEmpty()) {
            QString base = m_config.publicUrl.trimmed();
            while (base.endsWith(QLatin1Char('/')))
                base.chop(1);
            options.signedWebhookUrl = base + options.webhookPath;
        }
    }
    // The caller speaks in a voice other than the agent's, so a listener can
    // tell them apart.
    for (const auto &question : std::as_const(asked)) {
        QString error;
        const QByteArray audio = EmbeddedSynthesizer::synthesizeBlocking(
            SynthesisRequest{question, QStringLiteral("rms"), QStringLiteral("en")}, &error);
        if (audio.isEmpty()) {
            Q_EMIT demoCallFinished(tr("Could not speak the demo question \"%1\": %2").arg(question, error), false);
            return;
        }
        options.utterances << audio;
    }
    auto *caller = new SimulatedCaller(options, this);
    connect(caller, &SimulatedCaller::finished, this, [this, caller](const CallReport &report) {
        caller->deleteLater();
        QString summary;
        if (const CallRecord *call = m_monitor->find(report.callSid))
            summary = callAsText(*call);
        summary += tr("caller heard: greeting after %1 ms").arg(report.greetingLatencyMs, 0, 'f', 0);
        for (const auto &turn : report.turns)
            summary += tr(", reply %1 after %2 ms").arg(turn.index).arg(turn.latencyMs, 0, 'f', 0);
        summary += QLatin1Char('\n');
        for (const auto &error : report.errors)
            summary += tr("error: %1\n").arg(error);
        Q_EMIT demoCallFinished(summary, report.ok());
    });
    caller->start();
}

} // namespace apex
