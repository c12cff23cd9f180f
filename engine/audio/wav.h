#pragma once

#include <QString>
#include <QVector>
#include <cstdint>
#include <optional>

namespace apex::audio {

// PCM WAV read/write. Reads 8-bit unsigned, 16/24/32-bit PCM, 32-bit float and
// 8-bit mu-law (format 7) files, mono or multi-channel (mixed down to mono),
// skipping chunks it does not know. Hostile or truncated input yields a WavError,
// never a crash; a data chunk cut short keeps the samples that arrived.
struct PcmAudio
{
    int sampleRateHz = 8000;
    QVector<std::int16_t> samples; // mono
};

struct WavError
{
    QString message;
};

class Wav
{
public:
    static std::optional<PcmAudio> read(const QString &path, WavError *error = nullptr);
    static std::optional<PcmAudio> parse(const QByteArray &bytes, WavError *error = nullptr);
    static bool write(const QString &path, const PcmAudio &audio, WavError *error = nullptr);
    static QByteArray serialize(const PcmAudio &audio); // 16-bit PCM mono
};

} // namespace apex::audio
