#pragma once

#include <QString>
#include <QStringList>

namespace apex {

// Where the cloud providers are and how to reach them. Secrets come from the
// environment or the config file (which must then be private to its owner);
// they are never logged: use maskSecret() for anything shown to a person.
struct ProviderConfig
{
    QString deepgramApiKey;
    QString deepgramUrl = QStringLiteral("wss://api.deepgram.com/v1/listen");
    QString deepgramModel = QStringLiteral("nova-2");

    QString llmApiKey;
    QString llmBaseUrl = QStringLiteral("https://api.groq.com/openai/v1");
    // The seed ran llama-3.3-70b-versatile, decommissioned by Groq on 2026-08-16
    // for free and developer tiers; Groq recommends gpt-oss-120b instead.
    // LLM_MODEL=llama-3.3-70b-versatile brings the old one back where it lives on.
    QString llmModel = QStringLiteral("openai/gpt-oss-120b");

    QString azureSpeechKey;
    QString azureSpeechRegion;
    QString azureTtsUrl; // empty: https://{region}.tts.speech.microsoft.com/cognitiveservices/v1
    QString azureOutputFormat = QStringLiteral("raw-8khz-8bit-mono-mulaw");

    QString redisUrl; // empty: in-process cache and sessions only

    // TWILIO_AUTH_TOKEN: set, the voice webhook checks X-Twilio-Signature and the
    // media stream takes only streams the webhook announced. Empty: both are open.
    QString twilioAuthToken;

    // WAHA (WhatsApp HTTP API): where we send replies, the key it wants in
    // X-Api-Key, and the key it signs webhooks with (X-Webhook-Hmac). No URL:
    // the WhatsApp channel is off. No HMAC key: unsigned webhooks are accepted.
    QString wahaUrl;
    QString wahaApiKey;
    QString wahaHmacKey;

    bool hasDeepgram() const { return !deepgramApiKey.isEmpty(); }
    bool hasLlm() const { return !llmApiKey.isEmpty(); }
    bool hasWaha() const { return !wahaUrl.isEmpty(); }
    bool hasAzure() const { return !azureSpeechKey.isEmpty() && (!azureSpeechRegion.isEmpty() || !azureTtsUrl.isEmpty()); }
    QString azureUrl() const;

    // Reads DEEPGRAM_API_KEY, DEEPGRAM_URL, GROQ_API_KEY (or LLM_API_KEY),
    // LLM_BASE_URL, LLM_MODEL, AZURE_SPEECH_KEY, AZURE_SPEECH_REGION,
    // AZURE_TTS_URL, AZURE_TTS_FORMAT, REDIS_URL, TWILIO_AUTH_TOKEN, WAHA_URL,
    // WAHA_API_KEY, WAHA_HMAC_KEY; set variables
    // win over the file.
    void applyEnvironment();
};

struct Tenant;

// Which provider serves a tenant: its pin if it has one, else the cloud
// provider whose key is configured, else the embedded one.
struct ProviderChoice
{
    QString stt; // "deepgram" | "pocketsphinx"
    QString llm; // "groq" | "faq"
    QString tts; // "azure" | "embedded"
};
ProviderChoice chooseProviders(const ProviderConfig &config, const Tenant &tenant);

// What `apex-engine --check-config` prints: the listen address, each tenant and
// the providers it gets, endpoints, keys masked.
struct EngineConfig;
QString describeConfig(const EngineConfig &config);

// "gsk_abcdefgh1234" -> "gsk_…1234"; short or empty secrets show nothing of themselves.
QString maskSecret(const QString &secret);
// redis://:password@host:6379/0 -> redis://:…@host:6379/0
QString maskUrlPassword(const QString &url);

} // namespace apex
