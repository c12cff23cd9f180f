#pragma once

#include <QString>
#include <QUrl>

namespace apex {

struct ProviderConfig;

// How to reach Azure AI Speech text-to-speech (protocols.md §5). Immutable once
// an AzureSynthesizer holds it, so every engine thread may read it unlocked.
struct AzureSettings
{
    QString region;
    QString key; // never logged
    QString url; // empty: https://{region}.tts.speech.microsoft.com/cognitiveservices/v1
    QString outputFormat = QStringLiteral("raw-8khz-8bit-mono-mulaw");
    QString defaultVoice = QStringLiteral("en-US-JennyNeural");
    QString userAgent = QStringLiteral("apex");
    int requestTimeoutMs = 5000; // no byte for this long, before or during the body

    // The synthesis endpoint; invalid when neither url nor a plausible region
    // is set. A region is a host label, so anything else is refused rather than
    // spliced into a host name.
    QUrl synthesisUrl() const;
    bool isConfigured() const { return !key.isEmpty() && synthesisUrl().isValid(); }
};

// Key, region, URL and output format from the engine's provider configuration
// (AZURE_SPEECH_KEY, AZURE_SPEECH_REGION, AZURE_TTS_URL, AZURE_TTS_FORMAT).
AzureSettings azureSettingsFrom(const ProviderConfig &config);

} // namespace apex
