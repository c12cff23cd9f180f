#pragma once

#include "pipeline/backchannellexicon.h"

#include <QString>

#include <array>
#include <cstdint>

namespace apex {

struct BargeInSettings;

// Why the caller's voice over the agent stopped it or did not. Names are
// stable: they are metric labels.
enum class BargeInReason : int {
    StopWord,          // "wait", "रुको"
    NotABackchannel,   // words that are not in the backchannel lexicon
    TooManyWords,      // more words than a backchannel has
    SpeechTooLong,     // longer than minSpeechMs, words or not
    BeforeReply,       // the caller went on while the reply was still being prepared
    Backchannel,       // "ok", "haan": the agent goes on
    NothingRecognised, // noise or a cough: the agent goes on
};
inline constexpr int kBargeInReasonCount = int(BargeInReason::NothingRecognised) + 1;
const char *bargeInReasonName(BargeInReason reason);

enum class BargeInVerdict { Undecided, Stop, Ignore };

struct BargeInDecision
{
    BargeInVerdict verdict = BargeInVerdict::Undecided;
    BargeInReason reason = BargeInReason::NothingRecognised;
    QString words; // the words that decided it, where words did
    qint64 speechMs = -1; // for SpeechTooLong: how long the caller had been talking

    // "barge-in: stop word 'wait'", "ignored: backchannel 'ok'": for the trace and the log.
    QString describe() const;
};

// Decides whether the caller talking over the agent is an interruption, from
// what the recognizer has read so far and how long the caller has talked. It
// only judges; when to ask and what to do is the call session's.
class BargeInPolicy
{
public:
    BargeInPolicy(); // English defaults
    BargeInPolicy(const BargeInSettings &settings, const QString &language);

    int minSpeechMs() const { return m_minSpeechMs; }

    // A revisable partial: Stop on any word that is not a backchannel,
    // Undecided while it is only backchannel words (or none).
    BargeInDecision onPartial(const QString &text) const;
    // The utterance is over: Stop, or Ignore for a backchannel or nothing.
    BargeInDecision onFinal(const QString &text) const;
    // The caller has talked this long: Stop beyond minSpeechMs, else Undecided.
    BargeInDecision onSpeechLasted(qint64 speechMs) const;

private:
    BargeInDecision judgeWords(const QString &text, BargeInVerdict whenBackchannel) const;

    BackchannelLexicon m_lexicon;
    int m_maxBackchannelWords = 3;
    int m_minSpeechMs = 600;
};

// Barge-in decisions of one call, or summed over calls, for /metrics.
struct BargeInCounts
{
    std::array<std::uint64_t, kBargeInReasonCount> decisions{}; // by reason; the reason says stop or ignore
    std::uint64_t resumed = 0; // the agent stopped, the caller had said only a backchannel, the sentence was said again

    void record(BargeInReason reason) { ++decisions[size_t(reason)]; }
    BargeInCounts &operator+=(const BargeInCounts &other);
    static bool stops(BargeInReason reason) { return reason < BargeInReason::Backchannel; }
};

} // namespace apex
