#pragma once

#include <QMetaType>
#include <QString>

#include <cstdint>

namespace apex {

// One line of a call's transcript as observers (console, demo, history) see it.
// A caller's partial is replaced by later partials and finally by its final line.
// An agent reply cut off by a barge-in comes again, whole, with heardChars set:
// it replaces the turn's earlier agent line, and observers show the part the
// caller never heard apart.
struct TranscriptLine
{
    enum class Speaker { Caller, Agent, System };
    Speaker speaker = Speaker::Caller;
    QString text;
    bool isFinal = true;
    int turnIndex = 0;
    std::int64_t monotonicNs = 0;
    qsizetype heardChars = -1; // agent lines: the caller heard text.left(heardChars); -1: all of it

    bool wasCut() const { return heardChars >= 0; }
    QString heardText() const { return wasCut() ? text.left(heardChars).trimmed() : text; }
    QString unheardText() const { return wasCut() ? text.mid(heardChars).trimmed() : QString(); }
};

enum class CallState { Connecting, Greeting, Listening, Thinking, Speaking, Ended };
const char *callStateName(CallState state);

} // namespace apex

Q_DECLARE_METATYPE(apex::TranscriptLine)
Q_DECLARE_METATYPE(apex::CallState)
