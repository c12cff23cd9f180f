#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QVector>
#include <cstdint>
#include <span>

// G.711 mu-law, bit-exact with the ITU-T G.191 reference (g711.c: linear2ulaw /
// ulaw2linear operating on 14-bit magnitudes, as Twilio and every PSTN gateway do).
namespace apex::audio::g711 {

std::uint8_t linearToMulaw(std::int16_t sample);
std::int16_t mulawToLinear(std::uint8_t code);

QByteArray encodeMulaw(std::span<const std::int16_t> pcm);
QVector<std::int16_t> decodeMulaw(QByteArrayView mulaw);
// Appends into an existing buffer: the frame path reuses its storage.
void decodeMulaw(QByteArrayView mulaw, QVector<std::int16_t>& out);

} // namespace apex::audio::g711
