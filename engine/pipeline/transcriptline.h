#pragma once

#include <QMetaType>
#include <QString>

#include <cstdint>

namespace apex {

// One line of a call's transcript as observers (console, demo, history) see it.
// A caller's partial is replaced by later partials and finally by its final line.
struct TranscriptLine
{
    enum class Speaker { Caller, Agent, System };
    Speaker speaker = Speaker::Caller;
    QString text;
    bool isFinal = true;
    int turnIndex = 0;
    std::int64_t monotonicNs = 0;
};

enum class CallState { Connecting, Greeting, Listening, Thinking, Speaking, Ended };
const char *callStateName(CallState state);

} // namespace apex

Q_DECLARE_METATYPE(apex::TranscriptLine)
Q_DECLARE_METATYPE(apex::CallState)
