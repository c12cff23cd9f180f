#pragma once

// What a suite checks to tell speech from silence in 8 kHz mu-law it got back.

#include "audio/g711.h"
#include "audio/vad.h"

#include <QByteArray>

#include <algorithm>
#include <span>
#include <utility>

namespace apex::test {

// Loudest 20 ms frame (dBFS) and the share of frames at speech level.
inline std::pair<double, double> loudness(const QByteArray &mulaw)
{
    const QVector<std::int16_t> pcm = audio::g711::decodeMulaw(mulaw);
    double loudest = -100.0;
    int loud = 0, frames = 0;
    for (qsizetype i = 0; i + 160 <= pcm.size(); i += 160, ++frames) {
        const double db = audio::VoiceActivityDetector::frameDbfs(std::span(pcm).subspan(i, 160));
        loudest = std::max(loudest, db);
        loud += db > -40.0;
    }
    return {loudest, frames ? double(loud) / frames : 0.0};
}

} // namespace apex::test
