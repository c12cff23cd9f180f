#include "runtime/engine.h"

#include "history/historyrecorder.h"
#include "history/historyurl.h"

#include "runtime/engineproviders.h"
#include "http/apexserver.h"
#include "observability/logging.h"
#include "observability/processstats.h"
#include "observability/prometheustext.h"
#include "providers/providergovernor.h"
#include "httpclient/httpclientpool.h"
#include "pipeline/callsession.h"
#include "runtime/prewarmer.h"
#include "telephony/twiliomedialeg.h"
#include "whatsapp/whatsappchannel.h"


#include <algorithm>

#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QThread>

#include <QTimer>
#include <QUrl>

namespace apex {


Engine::Engine(EngineConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_tenants(m_config.tenants, m_config.defaultTenantId)
{
}

Engine::~Engine()
{
    // A reload still building speech models uses the providers.
    if (m_reloadPreparing)
        m_reloadPreparing->wait();
    // Sessions first: they hold pointers into the providers.
    const auto sessions = m_sessions.keys();
    for (CallSession *session : sessions)
        delete session;
    m_sessions.clear();
    // Before the providers: its chats hold responders and store callbacks.
    delete m_whatsapp;
    m_whatsapp = nullptr;
    // Last: commits the rows the calls and chats above left queued.
    m_history.reset();
}

bool Engine::start(QString *error)
{
    auto log = log::get("engine");
    QString parseError;
    const auto listen = ListenAddress::parse(m_config.listen, &parseError);
    if (!listen) {
        *error = QStringLiteral("bad listen address \"%1\": %2").arg(m_config.listen, parseError);
        return false;
    }

    m_providers = new EngineProviders(m_config, &m_tenants, this);
    m_providers->prepareTenants();
    m_services = m_providers->services();

    if (QString urlError; !m_config.history.url.isEmpty()) {
        HistoryWriter::Settings history;
        history.url = HistoryUrl::parse(m_config.history.url, &urlError);
        if (!urlError.isEmpty()) {
            *error = urlError;
            return false;
        }
        history.queueCapacity = m_config.history.queueCapacity;
        history.batchMaxRows = m_config.history.batchMaxRows;
        for (const auto &tenant : m_tenants.all())
            history.retentionDays.insert(tenant->id, tenant->historyRetentionDays);
        if (history.url.isEnabled())
            m_history = std::make_unique<HistoryRecorder>(std::move(history));
    }

    m_server = new ApexServer(this);
    m_server->applyConfig(m_config); // public URL, Twilio auth token, operator token, limits
    m_server->setTenantResolver([this](const QString &calledNumber) {
        const auto tenant = m_tenants.resolve(QString(), calledNumber);
        return tenant ? tenant->id : QString();
    });
    connect(m_server, &ApexServer::newCall, this, [this](TwilioMediaLeg *leg) {
        acceptCall(std::unique_ptr<CallLeg>(leg));
    });
    if (m_config.providers.hasWaha()) {
        // Keyed by host:port only: a URL may carry credentials, a breaker key is shown everywhere.
        const QUrl wahaUrl(m_config.providers.wahaUrl);
        const QString endpoint = QStringLiteral("%1:%2").arg(wahaUrl.host()).arg(wahaUrl.port(wahaUrl.scheme() == QLatin1String("https") ? 443 : 80));
        waha::WhatsAppChannel::Services whatsapp{&m_tenants, m_services.responders, m_services.sessions,
                                                 m_providers->governor().breakers().breaker(QString::fromLatin1(kWahaBreaker), endpoint)};
        m_whatsapp = new waha::WhatsAppChannel(m_config, std::move(whatsapp), this);
        if (m_history) {
            connect(m_whatsapp, &waha::WhatsAppChannel::chatTurn, this,
                    [this](const QString &tenantId, const QString &chatId, const QString &userText, const QString &reply) {
                        m_history->chatTurn(tenantId, chatId, userText, reply, providersOf(tenantId));
                    });
        }
        // WAHA authenticates itself with its signature, not as an operator.
        m_server->addPublicPath(m_config.whatsapp.webhookPath);
        m_server->http().route(m_config.whatsapp.webhookPath, QHttpServerRequest::Method::Post,
                               [this](const QHttpServerRequest &request) {
                                   const waha::WebhookAnswer answer = m_whatsapp->handleWebhook(waha::WebhookRequest{
                                       request.body(), request.value(QByteArrayLiteral("X-Webhook-Hmac")),
                                       request.value(QByteArrayLiteral("X-Webhook-Hmac-Algorithm")),
                                       request.remoteAddress().toString()});
                                   return QHttpServerResponse(QByteArrayLiteral("text/plain"), answer.text,
                                                              QHttpServerResponder::StatusCode(answer.status));
                               });
    }
    m_server->http().route(QStringLiteral("/stats"), QHttpServerRequest::Method::Get, [this] {
        return QHttpServerResponse(stats());
    });
    m_server->http().route(QStringLiteral("/metrics"), QHttpServerRequest::Method::Get, [this] {
        return QHttpServerResponse(PrometheusText::contentType(), metrics());
    });
    if (!m_server->listen(*listen, error))
        return false;
    m_listenHost = listen->host;
    log->info("call=- tenant=- engine on thread {} listening on {}:{}; {}", QThread::currentThread()->objectName(),
              m_listenHost, m_server->serverPort(), m_providers->describe());
    if (m_config.prewarmAtStart) {
        for (const auto &tenant : m_tenants.all())
            startPrewarm(tenant->id);
    }
    return true;
}

void Engine::startPrewarm(const QString &tenantId)
{
    const TenantPtr tenant = m_tenants.find(tenantId);
    if (!tenant || !m_providers) {
        Q_EMIT prewarmFinished(tenantId, QJsonObject{{QStringLiteral("error"), QStringLiteral("unknown tenant")}});
        return;
    }
    if (m_prewarmers.contains(tenantId))
        return; // already warming
    auto *prewarmer = new Prewarmer(m_providers->cachingSynthesizerFor(tenantId), this);
    m_prewarmers.insert(tenantId, prewarmer);
    connect(prewarmer, &Prewarmer::progress, this, [this, tenantId](int done, int total) {
        Q_EMIT prewarmProgress(tenantId, done, total);
    });
    connect(prewarmer, &Prewarmer::finished, this, [this, tenantId, prewarmer](const Prewarmer::Stats &stats) {
        m_prewarmers.remove(tenantId);
        prewarmer->deleteLater();
        Q_EMIT prewarmFinished(tenantId, stats.toJson());
    });
    prewarmer->start(*tenant);
}

void Engine::reloadTenants(const QList<Tenant> &tenants, const QString &defaultTenantId)
{
    if (!m_providers)
        return;
    if (m_reloadPreparing) {
        m_reloadPending.emplace(tenants, defaultTenantId); // the newest wins
        return;
    }
    QStringList added, changed, removed;
    QList<Tenant> toPrepare;
    for (const Tenant &tenant : tenants) {
        const TenantPtr old = m_tenants.find(tenant.id);
        if (old && *old == tenant)
            continue;
        (old ? changed : added) << tenant.id;
        toPrepare << tenant;
    }
    for (const TenantPtr &old : m_tenants.all()) {
        if (std::none_of(tenants.cbegin(), tenants.cend(), [&](const Tenant &t) { return t.id == old->id; }))
            removed << old->id;
    }
    // Building a changed tenant's speech model takes seconds: not on this
    // thread, which paces every live call's frames. New calls keep the old
    // version until it is ready, so none waits on a model being built.
    EngineProviders *providers = m_providers;
    m_reloadPreparing = QThread::create([providers, toPrepare] {
        for (const Tenant &tenant : toPrepare)
            providers->prepareTenant(tenant);
    });
    m_reloadPreparing->setObjectName(QStringLiteral("apex-reload"));
    m_reloadPreparing->setParent(this); // waited for and deleted with the engine
    connect(m_reloadPreparing, &QThread::finished, this, [=, this] {
        m_reloadPreparing->deleteLater();
        m_reloadPreparing = nullptr;
        applyReload(tenants, defaultTenantId, added, changed, removed);
        if (m_reloadPending) {
            auto [nextTenants, nextDefault] = *std::exchange(m_reloadPending, std::nullopt);
            reloadTenants(nextTenants, nextDefault);
        }
    });
    m_reloadPreparing->start();
}

void Engine::applyReload(const QList<Tenant> &tenants, const QString &defaultTenantId, const QStringList &added,
                         const QStringList &changed, const QStringList &removed)
{
    m_tenants.replace(tenants, defaultTenantId);
    m_config.tenants = tenants;
    m_config.defaultTenantId = defaultTenantId;
    if (m_history) {
        QHash<QString, int> retention;
        for (const auto &tenant : tenants)
            retention.insert(tenant.id, tenant.historyRetentionDays);
        m_history->setRetentionDays(retention);
    }
    auto join = [](const QStringList &ids) { return ids.isEmpty() ? QStringLiteral("none") : ids.join(QLatin1Char(',')); };
    log::get("engine")->info("call=- tenant=- tenants reloaded: added {}, changed {}, removed {}; {} live calls keep "
                             "the version they started with",
                             join(added), join(changed), join(removed), m_sessions.size());
    for (const QString &id : added + changed)
        startPrewarm(id);
    Q_EMIT tenantsReloaded(added, changed, removed);
}

void Engine::cancelPrewarm(const QString &tenantId)
{
    if (Prewarmer *prewarmer = m_prewarmers.value(tenantId))
        prewarmer->cancel();
}

QJsonObject Engine::stats() const
{
    std::uint64_t framesSent = m_framesSentEnded;
    std::uint64_t lateFrames = m_lateFramesEnded;
    for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it) {
        framesSent += it.key()->framesSent();
        lateFrames += it.key()->lateFrames();
    }
    const ProcessStats process = ProcessStats::sample();
    QJsonObject out{
        {QStringLiteral("liveCalls"), int(m_sessions.size())},
        {QStringLiteral("callsEnded"), qint64(m_callsEnded)},
        {QStringLiteral("framesSent"), qint64(framesSent)},
        {QStringLiteral("lateFrames"), qint64(lateFrames)},
        {QStringLiteral("cpuSeconds"), process.cpuSeconds},
        {QStringLiteral("residentBytes"), qint64(process.residentBytes)},
        {QStringLiteral("peakResidentBytes"), qint64(process.peakResidentBytes)},
        {QStringLiteral("threads"), process.threads},
    };
    if (m_providers) {
        const QJsonObject providers = m_providers->stats();
        for (auto it = providers.begin(); it != providers.end(); ++it)
            out.insert(it.key(), it.value());
    }
    if (m_server)
        out.insert(QStringLiteral("network"), m_server->networkStats());
    if (m_whatsapp)
        out.insert(QStringLiteral("whatsapp"), m_whatsapp->stats());
    if (m_history)
        out.insert(QStringLiteral("history"), m_history->stats());
    return out;
}

namespace {

// Outbound HTTP per provider, so a queue in front of a provider is never
// counted as the provider's time.
void writeHttpClientMetrics(PrometheusText &out)
{
    const auto all = HttpClientPool::allCounters();
    auto each = [&](const char *name, const char *type, const char *help, auto value) {
        out.family(QLatin1String(name), type, QLatin1String(help));
        for (const HttpClientCounters *c : all)
            out.sample(QLatin1String(name), double(value(*c)), {{QStringLiteral("provider"), c->provider}});
    };
    each("apex_http_requests_total", "counter", "Requests sent to the provider.", [](const HttpClientCounters &c) { return c.requests.load(); });
    each("apex_http_in_flight", "gauge", "Requests to the provider in flight now.", [](const HttpClientCounters &c) { return c.inFlight.load(); });
    each("apex_http_in_flight_peak", "gauge", "Most requests to the provider in flight at once.", [](const HttpClientCounters &c) { return c.peakInFlight.load(); });
    each("apex_http_connection_pools", "gauge", "Connection pools of six open to the provider, all threads.", [](const HttpClientCounters &c) { return c.managers.load(); });
    each("apex_http_request_wait_seconds_total", "counter", "Time requests waited before leaving: our queue and connection set-up.",
         [](const HttpClientCounters &c) { return double(c.waitMicrosTotal.load()) / 1e6; });
    each("apex_http_request_wait_seconds_max", "gauge", "Longest wait of one request before it left.",
         [](const HttpClientCounters &c) { return double(c.waitMicrosMax.load()) / 1e6; });
    each("apex_http_requests_waited_total", "counter", "Requests that waited more than 5 ms before leaving.",
         [](const HttpClientCounters &c) { return c.waitedOverMs.load(); });
}

} // namespace

QByteArray Engine::metrics() const
{
    const QJsonObject s = stats();
    PrometheusText out;
    auto simple = [&](const char *name, const char *type, const char *help, const char *key) {
        out.family(QLatin1String(name), type, QLatin1String(help));
        out.sample(QLatin1String(name), s.value(QLatin1String(key)).toDouble());
    };
    simple("apex_calls_live", "gauge", "Calls in progress.", "liveCalls");
    simple("apex_calls_ended_total", "counter", "Calls that have ended.", "callsEnded");
    simple("apex_frames_sent_total", "counter", "20 ms frames sent to callers.", "framesSent");
    simple("apex_frames_late_total", "counter", "Frames sent more than 5 ms after their deadline.", "lateFrames");
    simple("apex_process_cpu_seconds_total", "counter", "CPU time of the engine process.", "cpuSeconds");
    simple("apex_process_resident_bytes", "gauge", "Resident memory of the engine process.", "residentBytes");

    const QString redis = s.value(QStringLiteral("redis")).toString();
    out.family(QStringLiteral("apex_redis_up"), "gauge", QStringLiteral("1 when the Redis connection is up; absent without REDIS_URL."));
    if (redis != QLatin1String("off"))
        out.sample(QStringLiteral("apex_redis_up"), redis == QLatin1String("connected") ? 1 : 0);

    const QJsonObject tenants = s.value(QStringLiteral("ttsCache")).toObject().value(QStringLiteral("tenants")).toObject();
    out.family(QStringLiteral("apex_tts_cache_lookups_total"), "counter", QStringLiteral("TTS cache lookups by tenant and result."));
    for (auto it = tenants.begin(); it != tenants.end(); ++it) {
        const QJsonObject t = it.value().toObject();
        for (const char *result : {"memoryHits", "redisHits", "misses"})
            out.sample(QStringLiteral("apex_tts_cache_lookups_total"), t.value(QLatin1String(result)).toDouble(),
                       {{QStringLiteral("tenant"), it.key()}, {QStringLiteral("result"), QLatin1String(result)}});
    }
    const QJsonObject llm = s.value(QStringLiteral("llm")).toObject();
    out.family(QStringLiteral("apex_llm_rate_limited_total"), "counter", QStringLiteral("LLM responses that were HTTP 429."));
    out.sample(QStringLiteral("apex_llm_rate_limited_total"), llm.value(QStringLiteral("rateLimited")).toDouble());
    const QJsonObject limit = llm.value(QStringLiteral("lastRateLimit")).toObject();
    if (!limit.isEmpty()) {
        out.family(QStringLiteral("apex_llm_ratelimit_remaining"), "gauge", QStringLiteral("The provider's x-ratelimit-remaining-* on its last response."));
        out.sample(QStringLiteral("apex_llm_ratelimit_remaining"), limit.value(QStringLiteral("remainingRequests")).toDouble(), {{QStringLiteral("kind"), QStringLiteral("requests")}});
        out.sample(QStringLiteral("apex_llm_ratelimit_remaining"), limit.value(QStringLiteral("remainingTokens")).toDouble(), {{QStringLiteral("kind"), QStringLiteral("tokens")}});
    }

    m_providers->governor().writeMetrics(out);
    writeHttpClientMetrics(out);
    if (m_server)
        m_server->appendMetrics(out);
    if (m_whatsapp)
        m_whatsapp->appendMetrics(out);
    if (m_history)
        m_history->appendMetrics(out);

    // Barge-in decisions, to tune the backchannel lexicon and minSpeechMs from
    // real calls: accepted stopped the agent, ignored let it go on, resumed
    // said the sentence again after a stop that proved to be a backchannel.
    BargeInCounts bargeIns = m_bargeInsEnded;
    for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it)
        bargeIns += it.key()->bargeIns();
    out.family(QStringLiteral("apex_barge_in_decisions_total"), "counter",
               QStringLiteral("Caller speech over the agent, by decision (accepted, ignored) and reason."));
    for (int i = 0; i < kBargeInReasonCount; ++i) {
        const auto reason = BargeInReason(i);
        out.sample(QStringLiteral("apex_barge_in_decisions_total"), double(bargeIns.decisions[size_t(i)]),
                   {{QStringLiteral("decision"), BargeInCounts::stops(reason) ? QStringLiteral("accepted") : QStringLiteral("ignored")},
                    {QStringLiteral("reason"), QLatin1String(bargeInReasonName(reason))}});
    }
    out.family(QStringLiteral("apex_barge_in_resumed_total"), "counter",
               QStringLiteral("Stops that proved to be a backchannel or noise: the interrupted sentence was said again."));
    out.sample(QStringLiteral("apex_barge_in_resumed_total"), double(bargeIns.resumed));

    // Replies asked for before the endpointer spoke: adopted ones saved the
    // caller the time to first token, cancelled ones cost an LLM request.
    PreemptiveCounts preemptive = m_preemptiveEnded;
    for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it)
        preemptive += it.key()->preemptiveReplies();
    out.family(QStringLiteral("apex_preemptive_replies_total"), "counter",
               QStringLiteral("Replies requested before the endpointing silence ran out, by outcome (adopted, cancelled)."));
    out.sample(QStringLiteral("apex_preemptive_replies_total"), double(preemptive.adopted),
               {{QStringLiteral("outcome"), QStringLiteral("adopted")}});
    out.sample(QStringLiteral("apex_preemptive_replies_total"), double(preemptive.cancelled),
               {{QStringLiteral("outcome"), QStringLiteral("cancelled")}});

    out.family(QStringLiteral("apex_turn_stage_ms"), "histogram",
               QStringLiteral("Milliseconds from the caller's end of speech to each stage of a turn."));
    for (int i = int(TurnStage::Endpointed); i < kTurnStageCount; ++i) {
        const LatencyHistogram &h = m_stageLatency[size_t(i)];
        const QString stage = QString::fromLatin1(turnStageName(TurnStage(i)));
        for (size_t b = 0; b < LatencyHistogram::kBucketsMs.size(); ++b)
            out.sample(QStringLiteral("apex_turn_stage_ms_bucket"), double(h.cumulative(b)),
                       {{QStringLiteral("stage"), stage}, {QStringLiteral("le"), QString::number(LatencyHistogram::kBucketsMs[b])}});
        out.sample(QStringLiteral("apex_turn_stage_ms_bucket"), double(h.count()),
                   {{QStringLiteral("stage"), stage}, {QStringLiteral("le"), QStringLiteral("+Inf")}});
        out.sample(QStringLiteral("apex_turn_stage_ms_sum"), h.sumMs(), {{QStringLiteral("stage"), stage}});
        out.sample(QStringLiteral("apex_turn_stage_ms_count"), double(h.count()), {{QStringLiteral("stage"), stage}});
    }
    return out.text();
}

quint16 Engine::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

void Engine::drain(int drainMs)
{
    if (m_draining)
        return;
    m_draining = true;
    log::get("engine")->info("call=- tenant=- draining: {} live calls may finish within {} ms; new calls are refused",
                             m_sessions.size(), drainMs);
    if (m_sessions.isEmpty()) {
        Q_EMIT drained();
        return;
    }
    QTimer::singleShot(drainMs, this, [this] {
        if (m_sessions.isEmpty())
            return;
        log::get("engine")->warn("call=- tenant=- drain time spent: saying goodbye to {} live calls", m_sessions.size());
        const auto sessions = m_sessions.keys();
        for (CallSession *session : sessions)
            session->endWithGoodbye();
        // A goodbye that cannot be played (a stuck leg) must not keep the process up.
        QTimer::singleShot(10000, this, [this] {
            if (!m_sessions.isEmpty()) {
                log::get("engine")->warn("call=- tenant=- {} calls did not end after their goodbye; stopping anyway", m_sessions.size());
                Q_EMIT drained();
            }
        });
    });
}

QJsonObject Engine::providersOf(const QString &tenantId) const
{
    // What the tenant's turns are routed to; a turn the fallback answered says
    // so in its trace (hold line, barge-in decisions) and the log.
    const TenantPtr tenant = m_tenants.find(tenantId);
    if (!tenant)
        return {};
    const ProviderChoice choice = chooseProviders(m_config.providers, *tenant);
    return QJsonObject{{QStringLiteral("stt"), choice.stt}, {QStringLiteral("llm"), choice.llm}, {QStringLiteral("tts"), choice.tts}};
}

void Engine::acceptCall(std::unique_ptr<CallLeg> leg)
{
    if (m_draining) {
        log::get("engine")->info("call=- tenant=- refusing a new media stream: the engine is stopping");
        leg->hangUp();
        leg.release()->deleteLater();
        return;
    }
    auto *session = new CallSession(std::move(leg), m_services, this);
    m_sessions.insert(session, QString());
    connect(session, &CallSession::started, this, [this, session](const QString &callId, const QString &tenantId) {
        m_sessions[session] = callId;
        if (m_history)
            m_history->callStarted(tenantId, callId, session->callerNumber());
        Q_EMIT callStarted(callId, tenantId);
        Q_EMIT callParties(callId, session->startInfo().from, session->startInfo().to);
    });
    connect(session, &CallSession::stateChanged, this, [this, session](CallState state) {
        Q_EMIT callStateChanged(session->callId(), state);
    });
    connect(session, &CallSession::transcript, this, [this, session](const TranscriptLine &line) {
        Q_EMIT transcript(session->callId(), line);
    });
    connect(session, &CallSession::turnCompleted, this, [this, session](const TurnTrace &trace) {
        for (int i = int(TurnStage::Endpointed); i < kTurnStageCount; ++i) {
            const double ms = trace.msBetween(TurnStage::EndOfSpeech, TurnStage(i));
            if (ms >= 0)
                m_stageLatency[size_t(i)].record(ms);
        }
        if (m_history)
            m_history->turnEnded(session->tenantId(), session->callId(), trace, providersOf(session->tenantId()));
        Q_EMIT turnCompleted(session->callId(), trace);
    });
    connect(session, &CallSession::ended, this, [this, session](const QString &callId) {
        m_sessions.remove(session);
        ++m_callsEnded;
        m_framesSentEnded += session->framesSent();
        m_lateFramesEnded += session->lateFrames();
        m_bargeInsEnded += session->bargeIns();
        m_preemptiveEnded += session->preemptiveReplies();
        if (m_history && !session->tenantId().isEmpty())
            m_history->callEnded(session->tenantId(), callId, session->endReason());
        Q_EMIT callEnded(callId);
        // Not now: the session is still on the stack of its own signal.
        session->deleteLater();
        if (m_draining && m_sessions.isEmpty())
            Q_EMIT drained();
    });
}

} // namespace apex
