#pragma once

#include <QByteArray>
#include <QVector>

#include <cstdint>

namespace apex::test {

// MP3 test data made at test time, so no binary fixture lives in the tree.
// libmp3lame is a test-only dependency; without it lameAvailable() is false
// and encodeMp3() returns nothing.
bool lameAvailable();
// Mono or interleaved stereo 16-bit PCM to a CBR MP3 stream (no Xing/ID3 tag).
QByteArray encodeMp3(const QVector<std::int16_t> &pcm, int sampleRateHz, int kbps, int channels = 1);

} // namespace apex::test
