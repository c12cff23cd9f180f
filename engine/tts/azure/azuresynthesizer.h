#pragma once

#include "tts/azure/azuresettings.h"
#include "tts/speechsynthesizer.h"

#include <QByteArray>
#include <QNetworkRequest>
#include <QString>

class QNetworkAccessManager;

namespace apex {

// Azure AI Speech text-to-speech over REST (protocols.md §5): one POST of SSML
// per sentence, audio streamed back and emitted as 8 kHz mu-law while it
// arrives (AzureSynthesisJob). Shared by every call; synthesize() may be called
// from any thread with an event loop and the job lives on that thread.
//
// Network: the calling thread's HttpClientPool for "azure-tts": connections
// kept alive and shared by the calls on that thread, grown past Qt's six per
// host as sentences overlap (HTTP/2, which Qt negotiates over TLS by default,
// multiplexes instead).
class AzureSynthesizer : public SpeechSynthesizer
{
public:
    explicit AzureSynthesizer(AzureSettings settings);
    ~AzureSynthesizer() override;
    AzureSynthesizer(const AzureSynthesizer &) = delete;
    AzureSynthesizer &operator=(const AzureSynthesizer &) = delete;

    QString name() const override { return QStringLiteral("azure"); }
    // True when a key and a region or URL are set and the output format is one
    // AzureAudioDecoder turns into mu-law. Any text and voice goes: a voice
    // that is not an Azure name is replaced by the default one.
    bool supports(const SynthesisRequest &request) const override;
    // Returns an AzureSynthesisJob. Empty (after sanitising) text finishes
    // without audio; a missing configuration fails; both on the next loop pass.
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override;

    // Opens (TCP + TLS) a connection to Azure from this thread's manager now,
    // so the first sentence of a call does not pay for it.
    void warmUp();

    const AzureSettings &settings() const { return m_settings; }

    // request.voice when it is an Azure voice name (xx-XX-NameNeural, also
    // script and dialect forms such as sr-Latn-RS-… or zh-CN-shaanxi-…), else
    // defaultVoice.
    static QString resolveVoice(const SynthesisRequest &request, const AzureSettings &settings);
    static bool isAzureVoiceName(const QString &voice);
    // The locale part of an Azure voice name ("hi-IN-SwaraNeural" -> "hi-IN");
    // empty when the name is not one.
    static QString voiceLocale(const QString &voice);
    // The SSML body and the HTTP request for one sentence (for tests and tools).
    static QByteArray ssmlFor(const SynthesisRequest &request, const AzureSettings &settings);
    static QNetworkRequest httpRequest(const AzureSettings &settings);

    // This thread's manager (see the class comment).

private:
    AzureSettings m_settings;
    QUrl m_url;
    bool m_formatSupported = false;
};

} // namespace apex
