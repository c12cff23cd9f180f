#pragma once

#include <QString>

namespace apex {

// One server message of Deepgram's live API (protocols.md §3), read without the
// socket so the hostile-input fuzzer can reach it. Stream times are seconds
// since this connection opened; anything missing or mistyped reads as absent.
struct DeepgramMessage
{
    enum class Type { Results, SpeechStarted, UtteranceEnd, Metadata, Error, Other };
    Type type = Type::Other;

    // Results
    QString transcript;      // the first alternative's
    bool isFinal = false;
    bool speechFinal = false;
    double lastWordEnd = -1; // the first alternative's last word; -1: no words
    double start = 0;        // the span the result covers
    double duration = 0;
    // UtteranceEnd: last_word_end; -1 when absent
    double utteranceLastWordEnd = -1;
    // Metadata
    QString requestId;

    static DeepgramMessage parse(const QString &text);
};

} // namespace apex
