#include "runtime/engineproviders.h"

#include "audio/g711.h"
#include "audio/resampler.h"
#include "providers/providerrouting.h"
#include "llm/faq/faqresponder.h"
#include "llm/openai/openairesponder.h"
#include "llm/openai/openaisettings.h"
#include "observability/logging.h"
#include "providers/fallbackrecognizer.h"
#include "providers/fallbackresponder.h"
#include "providers/fallbacksynthesizer.h"
#include "providers/providergovernor.h"
#include "httpclient/httpclientpool.h"
#include "store/memorysessionstore.h"
#include "store/redisclient.h"
#include "store/redissessionstore.h"
#include "stt/deepgram/deepgramrecognizerfactory.h"
#include "stt/deepgram/deepgramsettings.h"
#include "stt/pocketsphinx/pocketsphinxrecognizerfactory.h"
#include "tenancy/tenantregistry.h"
#include "tts/azure/azuresettings.h"
#include "tts/azure/azuresynthesizer.h"
#include "ttscache/cachingsynthesizer.h"
#include "tts/embedded/embeddedsynthesizer.h"
#include "ttscache/ttscache.h"

#include <QUrl>

#include <climits>

namespace apex {

namespace {

// A few seconds of speech as a phone line carries it (flite, 8 kHz mu-law), so
// every new pocketsphinx decoder has heard the channel before it hears a caller:
// its live cepstral mean starts from a wide-band prior and mishears a fresh
// decoder's first utterance otherwise.
QVector<std::int16_t> telephoneBandPrimer()
{
    const QByteArray mulaw = EmbeddedSynthesizer::synthesizeBlocking(SynthesisRequest{
        QStringLiteral("Hello, thank you for calling. How can I help you today? I would like to book an appointment."),
        QStringLiteral("rms"), QStringLiteral("en")});
    const QVector<std::int16_t> pcm8k = audio::g711::decodeMulaw(mulaw);
    return audio::Resampler::convert(pcm8k, 8000, 16000);
}

template<typename T, typename... Args>
T *own(std::vector<std::shared_ptr<void>> &owned, Args &&...args)
{
    auto object = std::make_shared<T>(std::forward<Args>(args)...);
    owned.push_back(object);
    return object.get();
}

} // namespace

EngineProviders::EngineProviders(const EngineConfig &config, const TenantRegistry *tenants, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_tenants(tenants)
{
    const ProviderConfig &p = config.providers;
    m_governor = std::make_shared<ProviderGovernor>(config);
    const GovernanceSettings &g = config.governance;
    for (const char *provider : {"llm", "azure-tts"})
        HttpClientPool::setMaxConnections(QLatin1String(provider), g.httpConnectionsPerProvider);

    // Shared state first: Redis when configured, in-process otherwise.
    m_ttsCache = std::make_unique<TtsCache>();
    m_ttsCache->configureTenants(config.tenants);
    if (!p.redisUrl.isEmpty()) {
        m_redis = new RedisClient(RedisClient::Settings{p.redisUrl}, this);
        m_redis->start();
        m_ttsCache->setRedisClient(m_redis);
        m_sessions = new RedisSessionStore(m_redis, defaultSessionTtl, this);
    } else {
        m_sessions = new MemorySessionStore(defaultSessionTtl, {}, this);
    }

    // Speech recognition: pocketsphinx always, Deepgram in front of it when keyed.
    PocketsphinxRecognizerFactory::Settings sphinx;
    sphinx.pool.channelPrimer16k = telephoneBandPrimer();
    auto *pocketsphinx = own<PocketsphinxRecognizerFactory>(m_owned, sphinx);
    QHash<QString, SpeechRecognizerFactory *> stt{{QStringLiteral("pocketsphinx"), pocketsphinx}};
    if (p.hasDeepgram()) {
        auto *deepgram = own<DeepgramRecognizerFactory>(m_owned, DeepgramSettings::fromProviderConfig(p));
        RecognitionGovernance governance{m_governor->breakers().breaker(QString::fromLatin1(kDeepgramBreaker), QUrl(p.deepgramUrl).host()),
                                         g.sttResultDeadlineMs};
        stt.insert(QStringLiteral("deepgram"), own<FallbackRecognizerFactory>(m_owned, deepgram, pocketsphinx, governance));
    }
    m_recognizers = own<RoutingRecognizerFactory>(m_owned, p, stt);

    // Replies: the FAQ responder always, an OpenAI-compatible LLM in front of it when keyed.
    auto *faq = own<FaqResponderFactory>(m_owned);
    QHash<QString, ResponderFactory *> llm{{QStringLiteral("faq"), faq}};
    if (p.hasLlm()) {
        auto *groq = own<OpenAiResponderFactory>(m_owned, openAiSettingsFrom(p));
        // Runs on the responders' thread, which is this engine thread.
        groq->setRateLimitObserver([this, governor = m_governor](const RateLimitInfo &info) {
            if (info.remainingRequests >= 0 && info.resetRequestsMs >= 0)
                governor->llmConcurrency().onRateLimitHeaders(int(std::min<qint64>(info.remainingRequests, INT_MAX)),
                                                              std::chrono::milliseconds(info.resetRequestsMs), AimdLimiter::Clock::now());
            if (info.isRateLimited())
                ++m_rateLimited;
            m_lastRateLimit = QJsonObject{{QStringLiteral("limitRequests"), double(info.limitRequests)},
                                          {QStringLiteral("remainingRequests"), double(info.remainingRequests)},
                                          {QStringLiteral("limitTokens"), double(info.limitTokens)},
                                          {QStringLiteral("remainingTokens"), double(info.remainingTokens)},
                                          {QStringLiteral("retryAfterSeconds"), info.retryAfterSeconds}};
        });
        ResponderGovernance governance{m_governor->breakers().breaker(QString::fromLatin1(kLlmBreaker), QUrl(p.llmBaseUrl).host()),
                                       &m_governor->llmConcurrency(), &m_governor->tenantQuotas(), g.ttsFirstAudioDeadlineMs + 100,
                                       g.llmStallMs};
        llm.insert(QStringLiteral("groq"), own<FallbackResponderFactory>(m_owned, groq, faq, governance));
    }
    m_responders = own<RoutingResponderFactory>(m_owned, p, llm);

    // Speech: flite/espeak-ng always, Azure in front when keyed. The cache wraps
    // each provider, not the chain, so a sentence the fallback voice spoke is
    // never stored as if Azure had spoken it.
    auto *embedded = own<EmbeddedSynthesizer>(m_owned);
    auto *cachedEmbedded = own<CachingSynthesizer>(m_owned, embedded, m_ttsCache.get(), QStringLiteral("embedded"));
    m_cachingByProvider.insert(QStringLiteral("embedded"), cachedEmbedded);
    QHash<QString, SpeechSynthesizer *> tts{{QStringLiteral("embedded"), cachedEmbedded}};
    if (p.hasAzure()) {
        auto *azure = own<AzureSynthesizer>(m_owned, azureSettingsFrom(p));
        azure->warmUp(); // TCP and TLS up before the first sentence
        auto *cachedAzure = own<CachingSynthesizer>(m_owned, azure, m_ttsCache.get(), QStringLiteral("azure"));
        m_cachingByProvider.insert(QStringLiteral("azure"), cachedAzure);
        const QString region = p.azureSpeechRegion.isEmpty() ? QUrl(p.azureUrl()).host() : p.azureSpeechRegion;
        SynthesisGovernance governance{m_governor->breakers().breaker(QString::fromLatin1(kAzureTtsBreaker), region),
                                       g.ttsFirstAudioDeadlineMs, g.ttsStallMs};
        tts.insert(QStringLiteral("azure"), own<FallbackSynthesizer>(m_owned, cachedAzure, cachedEmbedded, governance));
    }
    m_synthesizer = own<RoutingSynthesizer>(m_owned, p, tenants, tts);
}

EngineProviders::~EngineProviders()
{
    // Reverse order of construction: chains before the providers they wrap.
    while (!m_owned.empty())
        m_owned.pop_back();
}

void EngineProviders::prepareTenants()
{
    for (const auto &tenant : m_tenants->all())
        m_recognizers->prepareTenant(*tenant);
}

void EngineProviders::prepareTenant(const Tenant &tenant)
{
    m_recognizers->prepareTenant(tenant);
}

CallServices EngineProviders::services() const
{
    return CallServices{m_tenants, m_recognizers, m_responders, m_synthesizer, m_sessions};
}

CachingSynthesizer *EngineProviders::cachingSynthesizerFor(const QString &tenantId) const
{
    const TenantPtr tenant = m_tenants->find(tenantId);
    const QString provider = tenant ? chooseProviders(m_config.providers, *tenant).tts : QStringLiteral("embedded");
    return m_cachingByProvider.value(provider, m_cachingByProvider.value(QStringLiteral("embedded")));
}

QString EngineProviders::describe() const
{
    QStringList parts;
    for (const auto &tenant : m_tenants->all()) {
        const ProviderChoice c = chooseProviders(m_config.providers, *tenant);
        parts << QStringLiteral("%1: stt=%2 llm=%3 tts=%4").arg(tenant->id, c.stt, c.llm, c.tts);
    }
    parts << QStringLiteral("redis=%1").arg(m_redis ? maskUrlPassword(m_config.providers.redisUrl) : QStringLiteral("off"));
    return parts.join(QStringLiteral("; "));
}

QJsonObject EngineProviders::stats() const
{
    QJsonObject out;
    out.insert(QStringLiteral("ttsCache"), m_ttsCache->stats().toJson());
    QString redis = QStringLiteral("off");
    if (m_redis) {
        switch (m_redis->state()) {
        case RedisClient::State::Connected: redis = QStringLiteral("connected"); break;
        case RedisClient::State::Connecting: redis = QStringLiteral("connecting"); break;
        case RedisClient::State::Disconnected: redis = QStringLiteral("disconnected"); break;
        }
    }
    out.insert(QStringLiteral("redis"), redis);
    out.insert(QStringLiteral("llm"), QJsonObject{{QStringLiteral("rateLimited"), double(m_rateLimited)},
                                                  {QStringLiteral("lastRateLimit"), m_lastRateLimit}});
    out.insert(QStringLiteral("governance"), m_governor->toJson());
    return out;
}

} // namespace apex
