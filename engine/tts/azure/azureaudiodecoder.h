#pragma once

#include "tts/azure/mp3streamdecoder.h"
#include "tts/mulawstreamencoder.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>
#include <optional>

namespace apex {

// One Azure TTS response body, as it arrives, to 8 kHz mu-law: whatever the
// configured X-Microsoft-OutputFormat, the caller hears mu-law.
//   raw-8khz-8bit-mono-mulaw   passed through untouched (the format to use)
//   raw-{rate}-16bit-mono-pcm  little-endian PCM, resampled when not 8 kHz
//   riff-…                     the WAV header is parsed and stripped, then as raw
//                              (mu-law or 16-bit PCM per its fmt chunk)
//   audio-…-mono-mp3           Mp3StreamDecoder
// Anything else (opus, ogg, webm, a-law, 8-bit PCM, stereo) is unsupported.
class AzureAudioDecoder
{
public:
    enum class Container { Raw, Riff, Mp3 };
    enum class Encoding { Mulaw, Pcm16 };

    struct Format
    {
        Container container = Container::Raw;
        Encoding encoding = Encoding::Mulaw; // raw and riff; riff's fmt chunk has the last word
        int sampleRateHz = 8000;
    };

    // What an output format name means, or nothing when we cannot decode it.
    static std::optional<Format> parseFormat(const QString &outputFormat);
    static bool isSupported(const QString &outputFormat) { return parseFormat(outputFormat).has_value(); }

    explicit AzureAudioDecoder(const QString &outputFormat);
    ~AzureAudioDecoder();
    AzureAudioDecoder(const AzureAudioDecoder &) = delete;
    AzureAudioDecoder &operator=(const AzureAudioDecoder &) = delete;

    // Mu-law for the bytes so far (possibly empty: half a sample, a header
    // not yet complete, an MP3 frame not yet whole). After an error, empty.
    QByteArray feed(QByteArrayView body);
    // What is still buffered; call once when the body is complete.
    QByteArray finish();

    bool hasError() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }

private:
    QByteArray decodeRaw(QByteArrayView bytes);
    bool parseRiffHeader(); // true once the data chunk starts; sets m_error on a bad header

    Format m_format;
    QString m_error;
    QByteArray m_pending;               // riff header bytes not yet parsed, or an odd PCM byte
    bool m_headerDone = false;          // riff: inside the data chunk
    qint64 m_dataRemaining = -1;        // riff: bytes left in the data chunk; -1 unknown (streamed WAV)
    std::unique_ptr<MulawStreamEncoder> m_pcmEncoder;
    std::unique_ptr<Mp3StreamDecoder> m_mp3;
};

} // namespace apex
