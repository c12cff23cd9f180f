#include "democall/callaudio.h"

#include "audio/g711.h"
#include "audio/resampler.h"
#include "audio/wav.h"

namespace apex::callaudio {

namespace {

// Wav names the file in some messages and not in others.
QString withPath(const QString &path, const QString &message)
{
    return message.contains(path) ? message : QStringLiteral("%1: %2").arg(path, message);
}

} // namespace

std::optional<QByteArray> readWavAsMulaw(const QString &path, QString *error)
{
    audio::WavError wavError;
    std::optional<audio::PcmAudio> pcm = audio::Wav::read(path, &wavError);
    if (!pcm) {
        if (error)
            *error = withPath(path, wavError.message);
        return std::nullopt;
    }
    if (pcm->samples.isEmpty()) {
        if (error)
            *error = QStringLiteral("%1: no audio").arg(path);
        return std::nullopt;
    }
    QVector<std::int16_t> samples = pcm->samples;
    if (pcm->sampleRateHz != 8000)
        samples = audio::Resampler::convert(samples, pcm->sampleRateHz, 8000);
    return audio::g711::encodeMulaw(samples);
}

bool writeMulawAsWav(const QString &path, const QByteArray &mulaw, QString *error)
{
    audio::PcmAudio pcm;
    pcm.sampleRateHz = 8000;
    pcm.samples = audio::g711::decodeMulaw(mulaw);
    audio::WavError wavError;
    if (!audio::Wav::write(path, pcm, &wavError)) {
        if (error)
            *error = withPath(path, wavError.message);
        return false;
    }
    return true;
}

} // namespace apex::callaudio
