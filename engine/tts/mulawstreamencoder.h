#pragma once

#include "audio/resampler.h"

#include <QByteArray>

#include <cstdint>
#include <memory>
#include <span>

namespace apex {

// PCM at whatever rate a synthesiser produces to 8 kHz mu-law, chunk by chunk.
// The input rate is only known once the first samples arrive (flite's kal voice
// is 8 kHz, the others 16 kHz; espeak-ng 22050 Hz), so the resampler is built then.
class MulawStreamEncoder
{
public:
    static constexpr int kOutputRateHz = 8000;

    QByteArray push(std::span<const std::int16_t> pcm, int sampleRateHz);
    QByteArray finish();

private:
    std::unique_ptr<audio::Resampler> m_resampler;
    int m_inputRateHz = 0;
};

} // namespace apex
