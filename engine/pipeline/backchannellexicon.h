#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace apex {

// The words a listener says to show they are following ("ok", "haan",
// "mm-hmm") and the words that mean the agent must stop ("wait", "रुको"), for
// one language. Matching is on whole words after Unicode NFC, case folding and
// dropping punctuation (hyphens included, so "uh-huh" is "uh huh"); a phrase of
// several words ("theek hai", "ठीक है") counts only as a whole. Devanagari
// vowel signs and nasal marks are kept: "हाँ" and "हां" are both listed rather
// than folded, as the two spellings are both in use.
class BackchannelLexicon
{
public:
    enum class Reading {
        Nothing,     // no word at all
        Backchannel, // every word belongs to a backchannel phrase
        StopWord,    // a stop phrase is among the words
        Other,       // words that are neither: somebody is saying something
    };
    struct Result
    {
        Reading reading = Reading::Nothing;
        QString phrase; // the stop phrase found, or the words read
        int words = 0;
    };

    BackchannelLexicon(const QStringList &backchannels, const QStringList &stopWords);

    // English, and Hindi in Devanagari and Latin script. Callers mix the two,
    // so each language's list holds the other's commonest words as well.
    static QStringList defaultBackchannels(const QString &language);
    static QStringList defaultStopWords(const QString &language);

    Result read(const QString &utterance) const;

    // The utterance as the lexicon compares it: folded words.
    static QStringList words(const QString &text);

private:
    static QList<QStringList> phrases(const QStringList &entries);
    static int matchAt(const QStringList &words, qsizetype at, const QList<QStringList> &phrases);

    QList<QStringList> m_backchannels; // longest first, so "theek hai" wins over "theek"
    QList<QStringList> m_stopWords;
};

} // namespace apex
