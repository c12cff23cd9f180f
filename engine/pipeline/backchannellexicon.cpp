#include "pipeline/backchannellexicon.h"

#include <algorithm>

namespace apex {

namespace {

// Latin-script Hindi as Indian callers and STT spell it, and the English a
// Hindi speaker drops in; Devanagari as Deepgram's hi model writes it.
const QStringList kEnglishBackchannels{
    QStringLiteral("hmm"), QStringLiteral("hm"), QStringLiteral("hmmm"), QStringLiteral("mm"), QStringLiteral("mmm"),
    QStringLiteral("mhm"), QStringLiteral("mm-hmm"), QStringLiteral("mm hmm"), QStringLiteral("mmhmm"),
    QStringLiteral("uh-huh"), QStringLiteral("uh huh"), QStringLiteral("uhhuh"), QStringLiteral("ok"), QStringLiteral("okay"),
    QStringLiteral("okey"), QStringLiteral("right"), QStringLiteral("alright"), QStringLiteral("all right"),
    QStringLiteral("yes"), QStringLiteral("yeah"), QStringLiteral("yep"), QStringLiteral("yup"), QStringLiteral("sure"),
    QStringLiteral("i see"), QStringLiteral("got it"), QStringLiteral("oh"), QStringLiteral("ah"), QStringLiteral("aha"),
};
const QStringList kHindiLatinBackchannels{
    QStringLiteral("haan"), QStringLiteral("han"), QStringLiteral("haa"), QStringLiteral("haanji"), QStringLiteral("haan ji"),
    QStringLiteral("ji"), QStringLiteral("ji haan"), QStringLiteral("acha"), QStringLiteral("achha"), QStringLiteral("accha"),
    QStringLiteral("achcha"), QStringLiteral("acchha"), QStringLiteral("theek hai"), QStringLiteral("thik hai"),
    QStringLiteral("theek"), QStringLiteral("thik"), QStringLiteral("sahi"), QStringLiteral("sahi hai"),
};
const QStringList kHindiDevanagariBackchannels{
    QStringLiteral("हाँ"), QStringLiteral("हां"), QStringLiteral("हा"), QStringLiteral("हाँ जी"), QStringLiteral("हां जी"),
    QStringLiteral("जी"), QStringLiteral("जी हाँ"), QStringLiteral("जी हां"), QStringLiteral("अच्छा"), QStringLiteral("ठीक है"),
    QStringLiteral("ठीक"), QStringLiteral("हम्म"), QStringLiteral("हम"), QStringLiteral("हूँ"), QStringLiteral("हूं"),
    QStringLiteral("ओके"), QStringLiteral("सही"), QStringLiteral("सही है"),
};
const QStringList kEnglishStopWords{
    QStringLiteral("wait"), QStringLiteral("no"), QStringLiteral("stop"), QStringLiteral("sorry"), QStringLiteral("hold on"),
    QStringLiteral("excuse me"), QStringLiteral("hang on"), QStringLiteral("pardon"), QStringLiteral("what"),
};
const QStringList kHindiStopWords{
    QStringLiteral("ruko"), QStringLiteral("rukiye"), QStringLiteral("nahi"), QStringLiteral("nahin"),
    QStringLiteral("suniye"), QStringLiteral("ek minute"), QStringLiteral("रुको"), QStringLiteral("रुकिए"), QStringLiteral("रुकिये"),
    QStringLiteral("नहीं"), QStringLiteral("नही"), QStringLiteral("सुनिए"), QStringLiteral("सुनिये"), QStringLiteral("एक मिनट"),
};

bool isHindi(const QString &language)
{
    return language.section(QLatin1Char('-'), 0, 0).compare(QLatin1String("hi"), Qt::CaseInsensitive) == 0;
}

} // namespace

QStringList BackchannelLexicon::defaultBackchannels(const QString &language)
{
    if (isHindi(language))
        return kHindiDevanagariBackchannels + kHindiLatinBackchannels + kEnglishBackchannels;
    return kEnglishBackchannels + kHindiLatinBackchannels + kHindiDevanagariBackchannels;
}

QStringList BackchannelLexicon::defaultStopWords(const QString &language)
{
    if (isHindi(language))
        return kHindiStopWords + kEnglishStopWords;
    return kEnglishStopWords + kHindiStopWords;
}

BackchannelLexicon::BackchannelLexicon(const QStringList &backchannels, const QStringList &stopWords)
    : m_backchannels(phrases(backchannels))
    , m_stopWords(phrases(stopWords))
{
}

QStringList BackchannelLexicon::words(const QString &text)
{
    const QString folded = text.normalized(QString::NormalizationForm_C).toCaseFolded();
    QString cleaned;
    cleaned.reserve(folded.size());
    for (QChar c : folded) {
        // Letters, digits and combining marks (Devanagari matras, the
        // chandrabindu) make words; punctuation, the danda and symbols do not.
        const bool inWord = c.isLetterOrNumber() || c.isMark() || c == QLatin1Char('\'');
        cleaned.append(inWord ? c : QChar(u' '));
    }
    return cleaned.split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

QList<QStringList> BackchannelLexicon::phrases(const QStringList &entries)
{
    QList<QStringList> out;
    for (const QString &entry : entries) {
        QStringList phrase = words(entry);
        if (!phrase.isEmpty() && !out.contains(phrase))
            out.append(phrase);
    }
    std::stable_sort(out.begin(), out.end(), [](const QStringList &a, const QStringList &b) { return a.size() > b.size(); });
    return out;
}

int BackchannelLexicon::matchAt(const QStringList &words, qsizetype at, const QList<QStringList> &phrases)
{
    for (const QStringList &phrase : phrases) {
        if (at + phrase.size() > words.size())
            continue;
        if (std::equal(phrase.cbegin(), phrase.cend(), words.cbegin() + at))
            return int(phrase.size());
    }
    return 0;
}

BackchannelLexicon::Result BackchannelLexicon::read(const QString &utterance) const
{
    const QStringList all = words(utterance);
    Result result;
    result.words = int(all.size());
    if (all.isEmpty())
        return result;
    for (qsizetype i = 0; i < all.size(); ++i) {
        if (const int n = matchAt(all, i, m_stopWords)) {
            result.reading = Reading::StopWord;
            result.phrase = all.mid(i, n).join(QLatin1Char(' '));
            return result;
        }
    }
    result.phrase = all.join(QLatin1Char(' '));
    for (qsizetype i = 0; i < all.size();) {
        const int n = matchAt(all, i, m_backchannels);
        if (n == 0) {
            result.reading = Reading::Other;
            return result;
        }
        i += n;
    }
    result.reading = Reading::Backchannel;
    return result;
}

} // namespace apex
