#include "vad.h"

#include <algorithm>
#include <cmath>

namespace apex::audio {

namespace {

// The floor follows a quieter line within a few frames but climbs over seconds,
// so a long vowel is not absorbed into it before onset is declared.
constexpr double kFloorRiseTauMs = 2000.0;
constexpr double kFloorFallTauMs = 40.0;
constexpr double kLowestFloorDb = -90.0;
constexpr double kInitialFloorDb = -60.0;

} // namespace

VoiceActivityDetector::VoiceActivityDetector(Settings settings)
    : m_settings(settings)
{
    reset();
}

void VoiceActivityDetector::reset()
{
    m_inSpeech = false;
    m_noiseFloorDb = kInitialFloorDb;
    m_voicedMs = 0;
    m_silentMs = 0;
}

double VoiceActivityDetector::frameDbfs(std::span<const std::int16_t> frame)
{
    if (frame.empty())
        return -100.0;
    double energy = 0.0;
    for (std::int16_t s : frame)
        energy += double(s) * double(s);
    const double rms = std::sqrt(energy / double(frame.size()));
    if (rms < 1e-9)
        return -100.0;
    return std::max(-100.0, 20.0 * std::log10(rms / 32768.0));
}

VoiceActivityDetector::Event VoiceActivityDetector::push(std::span<const std::int16_t> frame, int sampleRateHz)
{
    if (frame.empty() || sampleRateHz <= 0)
        return Event::None;
    const int frameMs = std::max(1, int(std::lround(double(frame.size()) * 1000.0 / sampleRateHz)));
    const double db = frameDbfs(frame);
    const double threshold = std::max(m_noiseFloorDb + m_settings.thresholdDb, m_settings.minimumDbfs);
    const bool voiced = db > threshold;

    if (!m_inSpeech) {
        // Learn the line noise only outside speech: the caller's own voice must
        // never raise the bar it is measured against.
        const double tau = db < m_noiseFloorDb ? kFloorFallTauMs : kFloorRiseTauMs;
        const double alpha = 1.0 - std::exp(-double(frameMs) / tau);
        m_noiseFloorDb = std::max(kLowestFloorDb, m_noiseFloorDb + (db - m_noiseFloorDb) * alpha);

        if (!voiced) {
            m_voicedMs = 0;
            return Event::None;
        }
        m_voicedMs += frameMs;
        if (m_voicedMs < m_settings.onsetMs)
            return Event::None;
        m_inSpeech = true;
        m_silentMs = 0;
        return Event::SpeechStarted;
    }

    if (voiced) {
        m_silentMs = 0;
        return Event::None;
    }
    m_silentMs += frameMs;
    if (m_silentMs < m_settings.endpointingMs)
        return Event::None;
    m_inSpeech = false;
    m_voicedMs = 0;
    m_silentMs = 0;
    return Event::SpeechEnded;
}

} // namespace apex::audio
