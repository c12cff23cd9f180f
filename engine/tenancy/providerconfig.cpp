#include "tenancy/providerconfig.h"

#include "tenancy/engineconfig.h"
#include "tenancy/tenant.h"


namespace apex {

namespace {

void take(const char *variable, QString &field)
{
    if (qEnvironmentVariableIsSet(variable))
        field = qEnvironmentVariable(variable);
}

} // namespace

QString ProviderConfig::azureUrl() const
{
    if (!azureTtsUrl.isEmpty())
        return azureTtsUrl;
    if (azureSpeechRegion.isEmpty())
        return {};
    return QStringLiteral("https://%1.tts.speech.microsoft.com/cognitiveservices/v1").arg(azureSpeechRegion);
}

void ProviderConfig::applyEnvironment()
{
    take("DEEPGRAM_API_KEY", deepgramApiKey);
    take("DEEPGRAM_URL", deepgramUrl);
    take("DEEPGRAM_MODEL", deepgramModel);
    take("LLM_API_KEY", llmApiKey);
    take("GROQ_API_KEY", llmApiKey);
    take("LLM_BASE_URL", llmBaseUrl);
    take("LLM_MODEL", llmModel);
    take("AZURE_SPEECH_KEY", azureSpeechKey);
    take("AZURE_SPEECH_REGION", azureSpeechRegion);
    take("AZURE_TTS_URL", azureTtsUrl);
    take("AZURE_TTS_FORMAT", azureOutputFormat);
    take("REDIS_URL", redisUrl);
    take("TWILIO_AUTH_TOKEN", twilioAuthToken);
    take("WAHA_URL", wahaUrl);
    take("WAHA_API_KEY", wahaApiKey);
    take("WAHA_HMAC_KEY", wahaHmacKey);
}

ProviderChoice chooseProviders(const ProviderConfig &config, const Tenant &tenant)
{
    auto pick = [](const QString &pin, bool cloudConfigured, const char *cloud, const char *embedded) {
        if (!pin.isEmpty() && pin != QLatin1String("auto"))
            return pin;
        return QString::fromLatin1(cloudConfigured ? cloud : embedded);
    };
    return ProviderChoice{pick(tenant.sttProvider, config.hasDeepgram(), "deepgram", "pocketsphinx"),
                          pick(tenant.llmProvider, config.hasLlm(), "groq", "faq"),
                          pick(tenant.ttsProvider, config.hasAzure(), "azure", "embedded")};
}

QString describeConfig(const EngineConfig &config)
{
    const ProviderConfig &p = config.providers;
    QString out;
    out += QStringLiteral("config:      %1\n").arg(config.sourcePath.isEmpty() ? QStringLiteral("(built in)") : config.sourcePath);
    out += QStringLiteral("listen:      %1\n").arg(config.listen);
    out += QStringLiteral("public url:  %1\n").arg(config.publicUrl.isEmpty() ? QStringLiteral("(none: derived from listen; Twilio needs https)") : config.publicUrl);
    out += QStringLiteral("deepgram:    %1 key %2, model %3\n").arg(p.deepgramUrl, maskSecret(p.deepgramApiKey), p.deepgramModel);
    out += QStringLiteral("llm:         %1 key %2, model %3\n").arg(p.llmBaseUrl, maskSecret(p.llmApiKey), p.llmModel);
    out += QStringLiteral("azure tts:   %1 key %2, format %3\n")
               .arg(p.azureUrl().isEmpty() ? QStringLiteral("(no region)") : p.azureUrl(), maskSecret(p.azureSpeechKey), p.azureOutputFormat);
    out += QStringLiteral("redis:       %1\n").arg(p.redisUrl.isEmpty() ? QStringLiteral("(none: in-process cache and sessions)") : maskUrlPassword(p.redisUrl));
    out += QStringLiteral("twilio:      auth token %1%2\n")
               .arg(maskSecret(p.twilioAuthToken),
                    p.twilioAuthToken.isEmpty() ? QStringLiteral(" (unsigned webhooks and unauthenticated media streams accepted)")
                                                : QStringLiteral(" (webhook signatures and stream tokens checked)"));
    out += QStringLiteral("operator:    token %1%2\n")
               .arg(maskSecret(config.operatorToken),
                    config.operatorToken.isEmpty() ? QStringLiteral(" (/stats and /metrics answer loopback peers only)") : QString());
    out += QStringLiteral("whatsapp:    %1\n")
               .arg(p.hasWaha() ? QStringLiteral("WAHA %1 key %2, webhook %3 hmac key %4%5")
                                      .arg(p.wahaUrl, maskSecret(p.wahaApiKey), config.whatsapp.webhookPath,
                                           maskSecret(p.wahaHmacKey),
                                           p.wahaHmacKey.isEmpty() ? QStringLiteral(" (unsigned webhooks accepted)") : QString())
                                : QStringLiteral("(off: no WAHA_URL)"));
    out += QStringLiteral("history:     %1\n")
               .arg(config.history.url.isEmpty() || config.history.url == QLatin1String("off")
                        ? QStringLiteral("(off: calls and chats are not recorded)")
                        : maskUrlPassword(config.history.url));
    const NetworkLimits &l = config.limits;
    out += QStringLiteral("limits:      stream start %1 ms, media gap %2 ms, request head %3 ms, body %4 ms; body %5 B, "
                          "head %6 B, %7 headers, request line %8 B; %9 connections, %10 per address, %11 log lines/s per remote\n")
               .arg(l.streamStartTimeoutMs).arg(l.streamMediaTimeoutMs).arg(l.requestHeaderTimeoutMs).arg(l.requestBodyTimeoutMs)
               .arg(l.maxBodyBytes).arg(l.maxHeaderBytes).arg(l.maxHeaderCount).arg(l.maxRequestLineBytes)
               .arg(l.maxConnections).arg(l.maxConnectionsPerAddress).arg(l.logLinesPerSecondPerRemote);
    for (const auto &t : config.tenants) {
        const ProviderChoice choice = chooseProviders(p, t);
        out += QStringLiteral("tenant %1%2: \"%3\", %4, voice %5, endpointing %6 ms, %7 FAQ entries, numbers %8\n")
                   .arg(t.id, t.id == config.defaultTenantId ? QStringLiteral(" (default)") : QString(), t.name, t.language, t.voice)
                   .arg(t.endpointingMs)
                   .arg(t.faq.size())
                   .arg(t.numbers.isEmpty() ? QStringLiteral("-") : t.numbers.join(QLatin1Char(' ')));
        out += QStringLiteral("    history kept %1 days\n").arg(t.historyRetentionDays);
        if (p.hasWaha() && !t.whatsappSession.isEmpty())
            out += QStringLiteral("    whatsapp session %1\n").arg(t.whatsappSession);
        out += QStringLiteral("    stt %1, llm %2%3, tts %4\n")
                   .arg(choice.stt, choice.llm,
                        choice.llm == QLatin1String("groq") ? QStringLiteral(" (%1)").arg(t.llmModel.isEmpty() ? p.llmModel : t.llmModel) : QString(),
                        choice.tts);
    }
    return out;
}

QString maskSecret(const QString &secret)
{
    if (secret.isEmpty())
        return QStringLiteral("(not set)");
    if (secret.size() < 12)
        return QStringLiteral("(set, %1 chars)").arg(secret.size());
    const int underscore = secret.indexOf(QLatin1Char('_'));
    const QString prefix = underscore > 0 && underscore <= 4 ? secret.left(underscore + 1) : QString();
    return prefix + QStringLiteral("…") + secret.right(4);
}

QString maskUrlPassword(const QString &url)
{
    // By hand, not QUrl: a raw password with '/', '#' or '@' makes QUrl give up,
    // and an unparsed URL must not come back with its password in it.
    const qsizetype scheme = url.indexOf(QStringLiteral("://"));
    const qsizetype at = url.lastIndexOf(QLatin1Char('@'));
    if (scheme < 0 || at < scheme + 3)
        return url;
    const QString userInfo = url.mid(scheme + 3, at - scheme - 3);
    const qsizetype colon = userInfo.indexOf(QLatin1Char(':'));
    const QString user = colon < 0 ? QString() : userInfo.left(colon);
    return url.left(scheme + 3) + user + QStringLiteral(":…") + url.mid(at);
}

} // namespace apex
