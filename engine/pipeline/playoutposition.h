#pragma once

#include <QList>
#include <QString>

namespace apex {

// What became of one sentence of a reply on its way to the caller.
struct SentencePlayout
{
    QString text;
    qint64 bytesSynthesised = 0;    // mu-law received from TTS so far
    qint64 bytesSent = 0;           // mu-law sent to the leg (padding of a last frame not counted)
    bool synthesisComplete = false; // bytesSynthesised is the sentence's whole length
    bool markEchoed = false;        // the provider reported the sentence's closing mark played
};

// How far into a reply the caller got before it was cut off, from the frames
// the speaker sent and the marks the provider echoed.
//
// Approximations, in the caller's favour of being told too little rather than
// too much: frames are paced in real time, so a frame sent is taken as heard
// (the provider's jitter buffer, a few tens of ms, is ignored); a sentence whose
// mark came back was heard whole. Within the sentence being played, words are
// taken to last in proportion to their characters (speech runs at a roughly even
// rate per letter), and a word counts as heard only when the audio reached its
// end. While a sentence is still being synthesised its length is unknown; it is
// estimated from its text at an ordinary speaking rate, or from the audio
// received if that is longer.
class PlayoutPosition
{
public:
    // About 13 characters a second at 8000 bytes of mu-law a second.
    static constexpr qint64 kEstimatedBytesPerChar = 600;

    explicit PlayoutPosition(QList<SentencePlayout> sentences);

    // Index of the first sentence not heard whole (== sentenceCount() when all were).
    int sentenceInProgress() const { return m_inProgress; }
    int sentenceCount() const { return int(m_sentences.size()); }
    // Fraction of the sentence in progress that was played, 0..1.
    double fractionOfSentenceInProgress() const { return m_fraction; }

    // `reply` is the text the sentences were cut from, in order. How many of
    // its characters the caller heard; and up to the end of the last sentence
    // heard whole.
    qsizetype heardChars(const QString &reply) const;
    qsizetype wholeSentenceChars(const QString &reply) const;

    // Characters of `sentence` heard when `fraction` of its audio was played.
    static qsizetype heardPrefix(const QString &sentence, double fraction);

private:
    qsizetype charsIn(const QString &reply, bool withPartialSentence) const;

    QList<SentencePlayout> m_sentences;
    int m_inProgress = 0;
    double m_fraction = 0;
};

} // namespace apex
