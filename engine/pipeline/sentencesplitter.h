#pragma once

#include <QString>
#include <QStringList>

namespace apex {

// Cuts a streamed reply into sentences so each can go to TTS the moment it is
// complete. One per reply, used from the call's thread.
//
// Boundaries: । ॥ ? ! newline, and . … when they end a sentence. A period or
// ellipsis ends one only before whitespace whose next non-space character is not
// lower-case or a digit, and not after an abbreviation that never ends one
// ("Dr.", "Mr.", "e.g.", ...) or an initial ("J. R. R. Tolkien"); so "3.5",
// "$4.99", "apex.example.com", "5 p.m. tomorrow", "etc. and" and "No. 5" stay
// whole. Closing quotes and brackets after a terminator stay with its sentence.
//
// Streaming: a terminator at the end of what has arrived is held until the next
// push() (or flush()) shows what follows, which costs one token of latency and
// makes the result independent of how the text was chunked.
//
// Long sentences: once a sentence reaches softLimitChars without a terminator it
// is cut after the next comma or semicolon, and at hardLimitChars (2x soft) at
// the last space, so TTS is never starved by a run-on reply.
//
// Sentences with no letter or digit ("...", a stray quote) carry nothing to say
// and are dropped.
class SentenceSplitter
{
public:
    static constexpr qsizetype defaultSoftLimitChars = 200;

    explicit SentenceSplitter(qsizetype softLimitChars = defaultSoftLimitChars);

    // Adds the next piece of the reply; returns the sentences it completed, trimmed, in order.
    QStringList push(const QString &delta);
    // The reply ended: returns whatever is left as sentences (trimmed, non-empty) and resets.
    QStringList flush();
    // Drops pending text (barge-in).
    void reset() { m_buffer.clear(); }

    bool hasPending() const { return !m_buffer.isEmpty(); }
    qsizetype softLimitChars() const { return m_softLimit; }
    qsizetype hardLimitChars() const { return 2 * m_softLimit; }

private:
    enum class EndOfText { Unknown, Reached };
    QStringList extract(EndOfText endOfText);
    // Length of the first sentence in m_buffer, 0 when more text is needed to decide.
    qsizetype findSentenceEnd(EndOfText endOfText) const;

    QString m_buffer; // never starts with whitespace
    qsizetype m_softLimit;
};

} // namespace apex
