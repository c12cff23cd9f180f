#include "g711.h"

#include <array>

namespace apex::audio::g711 {

namespace {

// ITU-T G.191 ulaw_compress for one sample. Negative samples take the one's
// complement before the shift, so -1 encodes as "negative zero" (0x7F); the
// common Sun linear2ulaw negates instead and lands one step off for every
// negative input.
std::uint8_t compressReference(std::int16_t sample)
{
    int absno = sample < 0 ? ((~int(sample)) >> 2) + 33 : (int(sample) >> 2) + 33;
    if (absno > 0x1FFF)
        absno = 0x1FFF;
    int segno = 1;
    for (int i = absno >> 6; i != 0; i >>= 1)
        ++segno;
    const int high = 0x8 - segno;
    const int low = 0xF - ((absno >> segno) & 0xF);
    int code = (high << 4) | low;
    if (sample >= 0)
        code |= 0x80;
    return std::uint8_t(code);
}

std::int16_t expandReference(std::uint8_t code)
{
    const int sign = code < 0x80 ? -1 : 1;
    const int inverted = ~int(code);
    const int exponent = (inverted >> 4) & 0x7;
    const int mantissa = inverted & 0xF;
    const int step = 4 << (exponent + 1);
    return std::int16_t(sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33));
}

// The code depends only on the top 14 bits of the sample (the reference works on
// sample >> 2, and ~x >> 2 == ~(x >> 2)), so a 16 KiB table covers every input.
struct Tables
{
    std::array<std::uint8_t, 1 << 14> encode{};
    std::array<std::int16_t, 256> decode{};

    Tables()
    {
        for (int index = 0; index < (1 << 14); ++index)
            encode[std::size_t(index)] = compressReference(std::int16_t(std::uint16_t(index << 2)));
        for (int code = 0; code < 256; ++code)
            decode[std::size_t(code)] = expandReference(std::uint8_t(code));
    }
};

const Tables &tables()
{
    static const Tables instance;
    return instance;
}

} // namespace

std::uint8_t linearToMulaw(std::int16_t sample)
{
    return tables().encode[std::uint16_t(sample) >> 2];
}

std::int16_t mulawToLinear(std::uint8_t code)
{
    return tables().decode[code];
}

QByteArray encodeMulaw(std::span<const std::int16_t> pcm)
{
    const auto &table = tables().encode;
    QByteArray out(qsizetype(pcm.size()), Qt::Uninitialized);
    char *dst = out.data();
    for (std::size_t i = 0; i < pcm.size(); ++i)
        dst[i] = char(table[std::uint16_t(pcm[i]) >> 2]);
    return out;
}

QVector<std::int16_t> decodeMulaw(QByteArrayView mulaw)
{
    QVector<std::int16_t> out;
    decodeMulaw(mulaw, out);
    return out;
}

void decodeMulaw(QByteArrayView mulaw, QVector<std::int16_t> &out)
{
    const auto &table = tables().decode;
    const qsizetype start = out.size();
    out.resize(start + mulaw.size());
    std::int16_t *dst = out.data() + start;
    const auto *src = reinterpret_cast<const std::uint8_t *>(mulaw.data());
    for (qsizetype i = 0; i < mulaw.size(); ++i)
        dst[i] = table[src[i]];
}

} // namespace apex::audio::g711
