#include "wav.h"

#include "g711.h"

#include <QFile>
#include <QSaveFile>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace apex::audio {

namespace {

constexpr quint16 kFormatPcm = 1;
constexpr quint16 kFormatFloat = 3;
constexpr quint16 kFormatMulaw = 7;
constexpr quint16 kFormatExtensible = 0xFFFE;
constexpr int kMaxChannels = 64;
constexpr int kMaxSampleRateHz = 768000;

quint16 readU16(const char *p)
{
    return quint16(quint8(p[0]) | (quint8(p[1]) << 8));
}

quint32 readU32(const char *p)
{
    return quint32(quint8(p[0])) | (quint32(quint8(p[1])) << 8) | (quint32(quint8(p[2])) << 16)
         | (quint32(quint8(p[3])) << 24);
}

void putU16(QByteArray &out, quint16 v)
{
    out.append(char(v & 0xFF));
    out.append(char(v >> 8));
}

void putU32(QByteArray &out, quint32 v)
{
    for (int i = 0; i < 4; ++i)
        out.append(char((v >> (8 * i)) & 0xFF));
}

std::optional<PcmAudio> fail(WavError *error, const QString &message)
{
    if (error)
        error->message = message;
    return std::nullopt;
}

struct Format
{
    quint16 tag = 0;
    int channels = 0;
    int sampleRateHz = 0;
    int blockAlign = 0;
    int bitsPerSample = 0;
};

// One sample of one channel, widened to int so the mixdown cannot overflow.
int decodeSample(const Format &f, const char *p)
{
    switch (f.tag) {
    case kFormatMulaw:
        return g711::mulawToLinear(quint8(*p));
    case kFormatFloat: {
        float v;
        std::memcpy(&v, p, sizeof v);
        if (!std::isfinite(v))
            return 0;
        return int(std::lround(std::clamp(v, -1.0f, 1.0f) * 32767.0f));
    }
    default:
        switch (f.bitsPerSample) {
        case 8: return (int(quint8(*p)) - 128) << 8;
        case 16: return qint16(readU16(p));
        case 24: return qint32(quint32(quint8(p[1])) << 16 | quint32(quint8(p[2])) << 24) >> 16;
        case 32: return qint32(readU32(p)) >> 16;
        }
    }
    return 0;
}

} // namespace

std::optional<PcmAudio> Wav::read(const QString &path, WavError *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(error, QStringLiteral("cannot open %1: %2").arg(path, file.errorString()));
    // Prompts and test clips are small; a hostile path to a huge file is refused
    // rather than read into memory.
    constexpr qint64 kMaxBytes = 512ll * 1024 * 1024;
    if (file.size() > kMaxBytes)
        return fail(error, QStringLiteral("%1 is larger than %2 bytes").arg(path).arg(kMaxBytes));
    return parse(file.readAll(), error);
}

std::optional<PcmAudio> Wav::parse(const QByteArray &bytes, WavError *error)
{
    const qsizetype size = bytes.size();
    const char *data = bytes.constData();
    if (size < 12)
        return fail(error, QStringLiteral("not a WAV file: %1 bytes, shorter than a RIFF header").arg(size));
    if (std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0)
        return fail(error, QStringLiteral("not a WAV file: missing RIFF/WAVE signature"));

    std::optional<Format> format;
    const char *samples = nullptr;
    qsizetype sampleBytes = 0;

    // Walk the chunks; anything that is neither "fmt " nor "data" (LIST, fact,
    // cue, ...) is skipped. Offsets are 64-bit so hostile sizes cannot wrap.
    qint64 offset = 12;
    while (offset + 8 <= size) {
        const char *header = data + offset;
        const qint64 chunkSize = readU32(header + 4);
        const qint64 body = offset + 8;
        const qint64 available = std::min<qint64>(chunkSize, size - body);
        if (std::memcmp(header, "fmt ", 4) == 0) {
            if (available < 16)
                return fail(error, QStringLiteral("truncated fmt chunk (%1 bytes)").arg(available));
            const char *p = data + body;
            Format f;
            f.tag = readU16(p);
            f.channels = readU16(p + 2);
            f.sampleRateHz = int(std::min<quint32>(readU32(p + 4), quint32(INT32_MAX)));
            f.blockAlign = readU16(p + 12);
            f.bitsPerSample = readU16(p + 14);
            if (f.tag == kFormatExtensible) {
                if (available < 26)
                    return fail(error, QStringLiteral("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk"));
                f.tag = readU16(p + 24); // first two bytes of the sub-format GUID
            }
            format = f;
        } else if (std::memcmp(header, "data", 4) == 0) {
            if (!format)
                return fail(error, QStringLiteral("data chunk before fmt chunk"));
            // A short data chunk is a truncated or still-growing recording: keep
            // what arrived, like every other reader does.
            samples = data + body;
            sampleBytes = qsizetype(std::max<qint64>(available, 0));
            break;
        }
        // Chunks are word aligned: an odd size is followed by one pad byte.
        offset = body + chunkSize + (chunkSize & 1);
    }

    if (!format)
        return fail(error, QStringLiteral("no fmt chunk"));
    if (!samples)
        return fail(error, QStringLiteral("no data chunk"));
    const Format &f = *format;
    if (f.channels < 1 || f.channels > kMaxChannels)
        return fail(error, QStringLiteral("unsupported channel count %1").arg(f.channels));
    if (f.sampleRateHz < 1 || f.sampleRateHz > kMaxSampleRateHz)
        return fail(error, QStringLiteral("unsupported sample rate %1 Hz").arg(f.sampleRateHz));

    int bytesPerSample = 0;
    if (f.tag == kFormatPcm && (f.bitsPerSample == 8 || f.bitsPerSample == 16 || f.bitsPerSample == 24
                                || f.bitsPerSample == 32))
        bytesPerSample = f.bitsPerSample / 8;
    else if (f.tag == kFormatMulaw && f.bitsPerSample == 8)
        bytesPerSample = 1;
    else if (f.tag == kFormatFloat && f.bitsPerSample == 32)
        bytesPerSample = 4;
    else
        return fail(error, QStringLiteral("unsupported encoding: format tag %1, %2 bits per sample")
                               .arg(f.tag)
                               .arg(f.bitsPerSample));
    const int frameBytes = bytesPerSample * f.channels;
    if (f.blockAlign != frameBytes)
        return fail(error, QStringLiteral("inconsistent block align %1 (expected %2)").arg(f.blockAlign).arg(frameBytes));

    PcmAudio audio;
    audio.sampleRateHz = f.sampleRateHz;
    const qsizetype frames = sampleBytes / frameBytes;
    audio.samples.resize(frames);
    for (qsizetype i = 0; i < frames; ++i) {
        const char *frame = samples + i * frameBytes;
        int sum = 0;
        for (int c = 0; c < f.channels; ++c)
            sum += decodeSample(f, frame + c * bytesPerSample);
        audio.samples[i] = std::int16_t(std::clamp(sum / f.channels, -32768, 32767));
    }
    return audio;
}

QByteArray Wav::serialize(const PcmAudio &audio)
{
    const quint32 dataBytes = quint32(audio.samples.size()) * 2;
    QByteArray out;
    out.reserve(44 + qsizetype(dataBytes));
    out.append("RIFF", 4);
    putU32(out, 36 + dataBytes);
    out.append("WAVEfmt ", 8);
    putU32(out, 16);
    putU16(out, kFormatPcm);
    putU16(out, 1);
    putU32(out, quint32(audio.sampleRateHz));
    putU32(out, quint32(audio.sampleRateHz) * 2);
    putU16(out, 2);
    putU16(out, 16);
    out.append("data", 4);
    putU32(out, dataBytes);
    for (std::int16_t s : audio.samples)
        putU16(out, quint16(s));
    return out;
}

bool Wav::write(const QString &path, const PcmAudio &audio, WavError *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            error->message = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    const QByteArray bytes = serialize(audio);
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            error->message = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace apex::audio
