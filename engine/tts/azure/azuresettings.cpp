#include "tts/azure/azuresettings.h"

#include "tenancy/providerconfig.h"

#include <QRegularExpression>

namespace apex {

QUrl AzureSettings::synthesisUrl() const
{
    if (!url.isEmpty()) {
        const QUrl explicitUrl(url, QUrl::StrictMode);
        const bool web = explicitUrl.scheme() == QLatin1String("https") || explicitUrl.scheme() == QLatin1String("http");
        return web && !explicitUrl.host().isEmpty() ? explicitUrl : QUrl();
    }
    static const QRegularExpression kRegion(QRegularExpression::anchoredPattern(QStringLiteral("[a-z0-9]{1,63}")));
    const QString r = region.trimmed().toLower();
    if (!kRegion.match(r).hasMatch())
        return {};
    return QUrl(QStringLiteral("https://%1.tts.speech.microsoft.com/cognitiveservices/v1").arg(r));
}

AzureSettings azureSettingsFrom(const ProviderConfig &config)
{
    AzureSettings s;
    s.key = config.azureSpeechKey;
    s.region = config.azureSpeechRegion;
    s.url = config.azureTtsUrl;
    if (!config.azureOutputFormat.isEmpty())
        s.outputFormat = config.azureOutputFormat;
    return s;
}

} // namespace apex
