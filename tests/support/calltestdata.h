#pragma once

// Hand-made transcript lines and turn traces for suites that feed a
// CallMonitor without an engine (the console's models and widgets).

#include "observability/turntrace.h"
#include "pipeline/transcriptline.h"

#include <initializer_list>
#include <utility>

namespace apex::test {

inline TranscriptLine transcriptLine(TranscriptLine::Speaker speaker, const QString &text, bool isFinal = true, int turn = 0)
{
    TranscriptLine l;
    l.speaker = speaker;
    l.text = text;
    l.isFinal = isFinal;
    l.turnIndex = turn;
    return l;
}

// A turn whose stages happen the given milliseconds after the caller stopped;
// stages not listed stay unstamped.
inline TurnTrace tracedTurn(int index, const QString &utterance,
                            std::initializer_list<std::pair<TurnStage, double>> msAfterEndOfSpeech)
{
    constexpr std::int64_t origin = 5'000'000'000;
    TurnTrace trace(index);
    trace.utterance = utterance;
    trace.stamp(TurnStage::EndOfSpeech, origin);
    for (const auto &[stage, ms] : msAfterEndOfSpeech)
        trace.stamp(stage, origin + std::int64_t(ms * 1e6));
    return trace;
}

} // namespace apex::test
