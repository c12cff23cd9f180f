#pragma once

#include <cstdint>
#include <span>

namespace apex::audio {

// Energy voice activity detector with an adaptive noise floor, fed 20 ms frames
// of 8 kHz PCM. It reports onset after a short run of voiced frames and offset
// after `endpointingMs` of silence: that offset is the end of the caller's turn.
class VoiceActivityDetector
{
public:
    enum class Event { None, SpeechStarted, SpeechEnded };

    struct Settings
    {
        int endpointingMs = 250;
        int onsetMs = 60;          // voiced time before speech is declared
        double thresholdDb = 12.0; // above noise floor
        double minimumDbfs = -45.0; // absolute floor: quieter than this is never speech
    };

    explicit VoiceActivityDetector(Settings settings);
    VoiceActivityDetector() : VoiceActivityDetector(Settings{}) {}

    // One frame of any length (normally 160 samples = 20 ms at 8 kHz).
    Event push(std::span<const std::int16_t> frame, int sampleRateHz = 8000);
    bool inSpeech() const { return m_inSpeech; }
    void reset();

    static double frameDbfs(std::span<const std::int16_t> frame);

private:
    Settings m_settings;
    bool m_inSpeech = false;
    double m_noiseFloorDb = -60.0;
    int m_voicedMs = 0;
    int m_silentMs = 0;
};

} // namespace apex::audio
