#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <array>
#include <cstdint>

namespace apex {

// The moments of one turn, in the order they normally happen. Names are stable:
// they are metric labels and JSON keys.
enum class TurnStage : int {
    EndOfSpeech,    // caller stopped talking: the last voiced audio
    Endpointed,     // the endpointer decided the turn is over (EndOfSpeech + endpointing silence)
    SttFinal,       // final transcript available
    ResponderStart, // request handed to the responder
    LlmRequestSent, // its HTTP request left (a gap before it is our queue or connection set-up)
    FirstToken,     // first spoken token back
    FirstSentence,  // first complete sentence cut by the splitter
    TtsStart,       // first sentence handed to TTS
    TtsRequestSent, // its cloud TTS request left (a gap before it is our queue or connection set-up)
    TtsFirstAudio,  // its first audio came back (cache hit or synthesis)
    FirstFrameOut,  // first 20 ms frame of the reply sent to the caller
    BargeIn,        // caller talked over the reply
};
inline constexpr int kTurnStageCount = int(TurnStage::BargeIn) + 1;

const char *turnStageName(TurnStage stage);

// A turn's timeline on the monotonic clock. The first stamp of a stage wins, so
// repeated events (every sentence's TTS start) keep the earliest.
class TurnTrace
{
public:
    TurnTrace() { m_ns.fill(-1); }
    explicit TurnTrace(int turnIndex) : TurnTrace() { m_turnIndex = turnIndex; }

    int turnIndex() const { return m_turnIndex; }
    void stamp(TurnStage stage, std::int64_t monotonicNs);
    void stampNow(TurnStage stage);
    bool has(TurnStage stage) const { return m_ns[size_t(stage)] >= 0; }
    std::int64_t at(TurnStage stage) const { return m_ns[size_t(stage)]; }
    // Milliseconds from one stage to another, or -1 if either is missing.
    double msBetween(TurnStage from, TurnStage to) const;

    QString utterance;
    QString reply;
    QString replyHeard; // after a barge-in: the part of the reply the caller heard
    QStringList bargeInDecisions; // each time the caller talked over this reply: what was decided and why
    // The reply was asked for before the endpointer spoke, with the same words,
    // and adopted: when that request was handed to the responder (monotonic ns).
    bool preemptive = false;
    std::int64_t preemptiveSentNs = -1;
    // From the responder, where it knows them (an LLM); -1 otherwise.
    int promptTokens = -1;
    int completionTokens = -1;
    double tokensPerSecond = -1;

    QJsonObject toJson() const; // stages as ms relative to EndOfSpeech (or the first stamp)

private:
    int m_turnIndex = 0;
    std::array<std::int64_t, kTurnStageCount> m_ns{};
};

} // namespace apex

Q_DECLARE_METATYPE(apex::TurnTrace)
