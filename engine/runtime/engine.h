#pragma once

#include "observability/latencyhistogram.h"
#include "observability/turntrace.h"
#include "pipeline/bargeinpolicy.h"
#include "pipeline/callservices.h"
#include "pipeline/preemptivecounts.h"
#include "pipeline/transcriptline.h"
#include "tenancy/engineconfig.h"
#include "tenancy/tenantregistry.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include <array>
#include <memory>
#include <optional>
#include <utility>

class QThread;

namespace apex {

class ApexServer;
class EngineProviders;
class CallLeg;
class CallSession;
class Prewarmer;
class HistoryRecorder;
namespace waha {
class WhatsAppChannel;
}

// The root of the engine: providers, the listening server and the live call
// sessions. Lives on the engine thread (EngineHost puts it there); everything it
// emits is meant to cross threads as queued signals.
class Engine : public QObject
{
    Q_OBJECT
public:
    explicit Engine(EngineConfig config, QObject *parent = nullptr);
    ~Engine() override;

    // Builds the providers and starts listening. Call on the engine thread.
    bool start(QString *error);
    quint16 port() const;
    QString listenHost() const { return m_listenHost; }
    const TenantRegistry &tenants() const { return m_tenants; }
    int liveCalls() const { return int(m_sessions.size()); }

    // Calls, frames and what the process costs, as served at GET /stats.
    QJsonObject stats() const;

    // The same and the per-stage latency histograms, in Prometheus text format (GET /metrics).
    QByteArray metrics() const;

    // Takes a call leg from any telephony front end (Twilio today).
    void acceptCall(std::unique_ptr<CallLeg> leg);

    // Synthesises a tenant's fixed phrases (greeting, FAQ answers, quoted lines
    // of the system prompt) into the TTS cache, one at a time so live calls
    // never wait behind it. Started for every tenant at start-up unless
    // EngineConfig::prewarmAtStart is off. Unknown tenant: prewarmFinished with
    // an "error" field.
    void startPrewarm(const QString &tenantId);

    // Stop taking calls and let the live ones finish for up to drainMs; then
    // each hears its tenant's goodbye line and is hung up. drained() follows
    // the last call's end (at once when none is live).
    void drain(int drainMs);
    bool isDraining() const { return m_draining; }
    void cancelPrewarm(const QString &tenantId);

    // Takes a re-read config's tenants without dropping a call: the new and
    // changed tenants' speech models are built on a worker first, then the
    // registry is swapped, the changed lines pre-warmed, and tenantsReloaded()
    // emitted. Live calls keep the tenant version they started with; a reload
    // asked for while one is preparing runs after it.
    void reloadTenants(const QList<Tenant> &tenants, const QString &defaultTenantId);

    // The WhatsApp channel, when WAHA is configured (providers.wahaUrl / WAHA_URL); else null.
    waha::WhatsAppChannel *whatsapp() const { return m_whatsapp; }

    // The call and chat history (config `history.url`); null when off.
    HistoryRecorder *history() const { return m_history.get(); }

Q_SIGNALS:
    void callStarted(const QString &callId, const QString &tenantId);
    // Right after callStarted: the caller's and the called number (empty when the leg does not know).
    void callParties(const QString &callId, const QString &from, const QString &to);
    void callStateChanged(const QString &callId, apex::CallState state);
    void transcript(const QString &callId, const apex::TranscriptLine &line);
    void turnCompleted(const QString &callId, const apex::TurnTrace &trace);
    void callEnded(const QString &callId);
    void prewarmProgress(const QString &tenantId, int done, int total);
    void prewarmFinished(const QString &tenantId, const QJsonObject &stats);
    void drained();
    void tenantsReloaded(const QStringList &added, const QStringList &changed, const QStringList &removed);

private:
    void applyReload(const QList<Tenant> &tenants, const QString &defaultTenantId, const QStringList &added,
                     const QStringList &changed, const QStringList &removed);

    EngineConfig m_config;
    TenantRegistry m_tenants;
    EngineProviders *m_providers = nullptr; // child; built in start()
    CallServices m_services;
    ApexServer *m_server = nullptr;
    waha::WhatsAppChannel *m_whatsapp = nullptr; // child; with WAHA configured
    std::unique_ptr<HistoryRecorder> m_history;   // with history.url set
    QJsonObject providersOf(const QString &tenantId) const;
    QString m_listenHost;
    QHash<CallSession *, QString> m_sessions;
    QHash<QString, Prewarmer *> m_prewarmers;
    bool m_draining = false;
    QThread *m_reloadPreparing = nullptr; // builds a reload's speech models
    std::optional<std::pair<QList<Tenant>, QString>> m_reloadPending;
    // Totals of the calls that have ended; live calls are added when asked.
    std::uint64_t m_callsEnded = 0;
    std::uint64_t m_framesSentEnded = 0;
    std::uint64_t m_lateFramesEnded = 0;
    BargeInCounts m_bargeInsEnded;
    PreemptiveCounts m_preemptiveEnded;
    std::array<LatencyHistogram, kTurnStageCount> m_stageLatency; // ms after the caller's end of speech
};

} // namespace apex
