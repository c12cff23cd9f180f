#include "tts/mulawstreamencoder.h"

#include "audio/g711.h"

namespace apex {

QByteArray MulawStreamEncoder::push(std::span<const std::int16_t> pcm, int sampleRateHz)
{
    if (pcm.empty() || sampleRateHz <= 0)
        return {};
    if (m_inputRateHz == 0) {
        m_inputRateHz = sampleRateHz;
        if (sampleRateHz != kOutputRateHz)
            m_resampler = std::make_unique<audio::Resampler>(sampleRateHz, kOutputRateHz);
    }
    if (!m_resampler)
        return audio::g711::encodeMulaw(pcm);
    return audio::g711::encodeMulaw(m_resampler->process(pcm));
}

QByteArray MulawStreamEncoder::finish()
{
    if (!m_resampler)
        return {};
    return audio::g711::encodeMulaw(m_resampler->flush());
}

} // namespace apex
