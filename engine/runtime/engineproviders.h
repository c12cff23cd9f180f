#pragma once

#include "pipeline/callservices.h"
#include "tenancy/engineconfig.h"

#include <QJsonObject>
#include <QObject>

#include <memory>
#include <vector>

namespace apex {

class CachingSynthesizer;
class RedisClient;
class SessionStore;
class SpeechRecognizerFactory;
class ResponderFactory;
class SpeechSynthesizer;
class TenantRegistry;
class TtsCache;
class ProviderGovernor;

// Builds and owns every provider of one engine thread: the embedded ones always
// (they are the fallback), the cloud ones whose keys are configured, each behind
// its fallback chain, routed per tenant, the TTS cache in front of synthesis,
// Redis when REDIS_URL is set. Lives and dies on the engine thread.
class EngineProviders : public QObject
{
    Q_OBJECT
public:
    EngineProviders(const EngineConfig &config, const TenantRegistry *tenants, QObject *parent = nullptr);
    ~EngineProviders() override;

    // Slow (pocketsphinx models, the channel primer): at start-up, before calls.
    void prepareTenants();
    // One tenant's models (a reload's new or changed tenant); safe on any thread.
    void prepareTenant(const Tenant &tenant);

    CallServices services() const;
    TtsCache *ttsCache() const { return m_ttsCache.get(); }
    // The synthesizer a tenant's speech goes through (cache included), for pre-warm.
    CachingSynthesizer *cachingSynthesizerFor(const QString &tenantId) const;
    RedisClient *redis() const { return m_redis; }
    QString describe() const; // "stt=… llm=… tts=…" for the start-up log
    QJsonObject stats() const;
    // Breakers, the LLM concurrency limit and tenant quotas: shared by calls.
    ProviderGovernor &governor() const { return *m_governor; }

private:
    const EngineConfig &m_config;
    const TenantRegistry *m_tenants;
    // Owned providers, in construction order; destroyed in reverse.
    std::vector<std::shared_ptr<void>> m_owned;
    std::unique_ptr<TtsCache> m_ttsCache;
    std::shared_ptr<ProviderGovernor> m_governor;
    RedisClient *m_redis = nullptr; // child QObject
    SessionStore *m_sessions = nullptr;
    SpeechRecognizerFactory *m_recognizers = nullptr;
    ResponderFactory *m_responders = nullptr;
    SpeechSynthesizer *m_synthesizer = nullptr;
    QHash<QString, CachingSynthesizer *> m_cachingByProvider;
    // The LLM provider's last rate-limit signal (x-ratelimit-*, 429s), for
    // /metrics; the AIMD limiter acts on it.
    QJsonObject m_lastRateLimit;
    quint64 m_rateLimited = 0;
};

} // namespace apex
