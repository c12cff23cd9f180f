#include "stt/deepgram/deepgramsettings.h"

#include "tenancy/providerconfig.h"
#include "tenancy/tenant.h"

#include <QUrlQuery>

namespace apex {

namespace {
QString boolText(bool value)
{
    return value ? QStringLiteral("true") : QStringLiteral("false");
}
} // namespace

DeepgramSettings DeepgramSettings::fromProviderConfig(const ProviderConfig &config)
{
    DeepgramSettings settings;
    settings.apiKey = config.deepgramApiKey;
    if (!config.deepgramUrl.isEmpty())
        settings.url = config.deepgramUrl;
    if (!config.deepgramModel.isEmpty())
        settings.model = config.deepgramModel;
    return settings;
}

DeepgramCallSettings DeepgramCallSettings::forTenant(const Tenant &tenant, const QString &callId)
{
    DeepgramCallSettings call;
    if (!tenant.language.isEmpty())
        call.language = tenant.language;
    if (tenant.endpointingMs > 0)
        call.endpointingMs = tenant.endpointingMs;
    call.callId = callId;
    call.tenantId = tenant.id;
    return call;
}

QUrl deepgramListenUrl(const DeepgramSettings &settings, const DeepgramCallSettings &call)
{
    QUrl url(settings.url);
    QUrlQuery query(url); // keeps anything an operator put in DEEPGRAM_URL
    const auto set = [&query](const QString &key, const QString &value) {
        query.removeAllQueryItems(key);
        query.addQueryItem(key, value);
    };
    set(QStringLiteral("model"), settings.model);
    set(QStringLiteral("language"), call.language);
    set(QStringLiteral("encoding"), settings.encoding);
    set(QStringLiteral("sample_rate"), QStringLiteral("8000"));
    set(QStringLiteral("channels"), QStringLiteral("1"));
    set(QStringLiteral("endpointing"), QString::number(call.endpointingMs));
    // interim_results is what makes UtteranceEnd (the noisy-line fallback) possible.
    set(QStringLiteral("interim_results"), QStringLiteral("true"));
    set(QStringLiteral("utterance_end_ms"), QString::number(settings.utteranceEndMs));
    set(QStringLiteral("vad_events"), QStringLiteral("true"));
    set(QStringLiteral("punctuate"), QStringLiteral("true"));
    set(QStringLiteral("smart_format"), boolText(settings.smartFormat));
    url.setQuery(query);
    return url;
}

} // namespace apex
