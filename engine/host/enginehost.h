#pragma once

#include "tenancy/engineconfig.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QThread>

#include <functional>
#include <memory>

namespace apex {

class CallMonitor;
class Engine;
struct CallReport;

// The engine as an embedding application sees it (the console, apex-engine).
// Owns the engine thread and the engine on it; lives on the embedding thread
// and talks to the engine only through queued calls and signals, so a repaint
// or a slow slot here can never delay a 20 ms frame.
class EngineHost : public QObject
{
    Q_OBJECT
public:
    explicit EngineHost(EngineConfig config, QObject *parent = nullptr);
    ~EngineHost() override; // stops the engine: quit, then wait for its thread

    // Starts the engine thread and waits (briefly) until it listens.
    bool start(QString *error);
    void stop();
    // Graceful stop: no new calls; live ones finish (up to the config's
    // drainMs, then a goodbye); drained() when none is left.
    void drain();
    // A re-read config's tenants, without dropping a call (Engine::reloadTenants).
    void reloadTenants(const EngineConfig &fresh);
    bool isRunning() const;

    QString listenAddress() const { return m_listenAddress; } // host:port actually bound
    quint16 port() const { return m_port; }
    const EngineConfig &config() const { return m_config; }

    // Fed from the engine thread; the models read it.
    CallMonitor *monitor() const { return m_monitor; }

    // Places a simulated Twilio call against this engine, in process: the caller
    // asks `questions` (spoken by flite); demoCallFinished reports the result.
    // Empty `questions`: two questions from the default tenant's FAQ.
    void placeDemoCall(const QStringList &questions = {});

    // Pre-warm a tenant's TTS cache on demand, or stop one that runs.
    void prewarm(const QString &tenantId);
    void cancelPrewarm(const QString &tenantId);
    // The engine's /stats, fetched from its thread; `done` runs on this thread.
    void fetchStats(std::function<void(const QJsonObject &)> done);

Q_SIGNALS:
    void demoCallFinished(const QString &summary, bool ok);
    void engineError(const QString &message);
    void prewarmProgress(const QString &tenantId, int done, int total);
    void prewarmFinished(const QString &tenantId, const QJsonObject &stats);
    void drained();
    void tenantsReloaded(const QStringList &added, const QStringList &changed, const QStringList &removed);

private:
    EngineConfig m_config;
    QThread m_thread;
    Engine *m_engine = nullptr; // lives on m_thread
    CallMonitor *m_monitor = nullptr;
    QString m_listenAddress;
    quint16 m_port = 0;
};

} // namespace apex
