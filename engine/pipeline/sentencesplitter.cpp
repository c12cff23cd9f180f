#include "pipeline/sentencesplitter.h"

#include <QSet>

#include <algorithm>

namespace apex {

namespace {

bool isDanda(QChar c) { return c == u'\u0964' || c == u'\u0965'; }
bool isStrongTerminator(QChar c) { return c == u'?' || c == u'!' || isDanda(c); }
bool isWeakTerminator(QChar c) { return c == u'.' || c == u'\u2026'; }
bool isTerminator(QChar c) { return isStrongTerminator(c) || isWeakTerminator(c); }

bool isCloser(QChar c)
{
    switch (c.unicode()) {
    case u'"': case u'\'': case u')': case u']': case u'}':
    case u'\u2019': case u'\u201D': case u'\u00BB': case u'\u203A': case u'\u300D': case u'\u300F':
        return true;
    default:
        return false;
    }
}

bool isLineBreak(QChar c) { return c == u'\n' || c == u'\r' || c == u'\u2028' || c == u'\u2029'; }

bool isClauseBreak(QChar c)
{
    return c == u',' || c == u';' || c == u'\u060C' || c == u'\u3001' || c == u'\uFF0C' || c == u'\uFF1B';
}

// Titles and Latin shorthands that are followed by a capitalised word and still
// do not end the sentence. "etc.", "a.m." and "No." are left out: they do end
// sentences, and the lower-case/digit rule keeps them whole mid-sentence.
bool isNonFinalAbbreviation(const QString &token)
{
    static const QSet<QString> abbreviations = {
        QStringLiteral("dr"), QStringLiteral("mr"), QStringLiteral("mrs"), QStringLiteral("ms"), QStringLiteral("mx"),
        QStringLiteral("prof"), QStringLiteral("st"), QStringLiteral("mt"), QStringLiteral("rev"), QStringLiteral("fr"),
        QStringLiteral("capt"), QStringLiteral("sgt"), QStringLiteral("lt"), QStringLiteral("col"), QStringLiteral("gen"),
        QStringLiteral("hon"), QStringLiteral("vs"), QStringLiteral("e.g"), QStringLiteral("i.e"), QStringLiteral("cf"),
        QStringLiteral("viz"), QStringLiteral("approx"), QStringLiteral("smt"), QStringLiteral("shri"),
    };
    return abbreviations.contains(token.toLower());
}

// Whether the word ending just before the period at `dot` keeps the sentence open.
bool abbreviationBefore(const QString &text, qsizetype dot)
{
    qsizetype start = dot;
    while (start > 0 && (text[start - 1].isLetter() || text[start - 1] == u'.'))
        --start;
    const QString token = text.mid(start, dot - start);
    if (token.isEmpty())
        return false;
    if (token.size() == 1 && token[0].isUpper())
        return true; // an initial: "J. R. R. Tolkien"
    return isNonFinalAbbreviation(token);
}

bool hasSpeakableContent(const QString &s)
{
    return std::any_of(s.begin(), s.end(), [](QChar c) { return c.isLetterOrNumber(); });
}

void trimLeadingSpace(QString &s)
{
    qsizetype n = 0;
    while (n < s.size() && s[n].isSpace())
        ++n;
    s.remove(0, n);
}

} // namespace

SentenceSplitter::SentenceSplitter(qsizetype softLimitChars)
    : m_softLimit(std::max<qsizetype>(softLimitChars, 16))
{
}

QStringList SentenceSplitter::push(const QString &delta)
{
    m_buffer += delta;
    trimLeadingSpace(m_buffer);
    return extract(EndOfText::Unknown);
}

QStringList SentenceSplitter::flush()
{
    QStringList out = extract(EndOfText::Reached);
    m_buffer.clear();
    return out;
}

QStringList SentenceSplitter::extract(EndOfText endOfText)
{
    QStringList out;
    while (!m_buffer.isEmpty()) {
        const qsizetype end = findSentenceEnd(endOfText);
        if (end == 0)
            break;
        const QString sentence = m_buffer.left(end).trimmed();
        m_buffer.remove(0, end);
        trimLeadingSpace(m_buffer);
        if (hasSpeakableContent(sentence))
            out.append(sentence);
    }
    return out;
}

// Scans from the start of the pending sentence every time rather than resuming:
// a sentence is at most a few hundred characters, and a decision that depends
// only on the text (never on where a chunk ended) is what keeps streaming and
// whole-text results identical.
qsizetype SentenceSplitter::findSentenceEnd(EndOfText endOfText) const
{
    const QString &s = m_buffer;
    const qsizetype n = s.size();
    const bool atEnd = endOfText == EndOfText::Reached;
    const qsizetype hardLimit = hardLimitChars();
    qsizetype lastSpace = -1;

    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = s[i];
        if (isLineBreak(c))
            return i;

        if (isTerminator(c)) {
            qsizetype j = i;
            bool strong = false;
            bool danda = false;
            bool ellipsis = false;
            while (j < n && isTerminator(s[j])) {
                strong = strong || isStrongTerminator(s[j]);
                danda = danda || isDanda(s[j]);
                ellipsis = ellipsis || s[j] == u'\u2026' || j > i;
                ++j;
            }
            while (j < n && isCloser(s[j]))
                ++j;
            if (j == n)
                return atEnd ? n : 0; // a closing quote or more of the run may still come
            if (danda)
                return j; // unambiguous, with or without a following space
            if (!s[j].isSpace()) {
                i = j - 1; // "3.5", "apex.example.com", "Yahoo!Mail"
                continue;
            }
            if (strong)
                return j;

            qsizetype k = j;
            while (k < n && s[k].isSpace()) {
                if (isLineBreak(s[k]))
                    return j;
                ++k;
            }
            if (k == n)
                return atEnd ? j : 0; // the next word decides
            const QChar next = s[k];
            if (next.isLower() || next.isDigit() || (!ellipsis && abbreviationBefore(s, i))) {
                i = j - 1;
                continue;
            }
            return j;
        }

        if (c.isSpace())
            lastSpace = i;
        if (i + 1 >= m_softLimit && isClauseBreak(c)) {
            if (i + 1 == n)
                return atEnd ? n : 0;
            if (s[i + 1].isSpace())
                return i + 1;
        }
        if (i + 1 >= hardLimit)
            return lastSpace > 0 ? lastSpace : i + 1;
    }
    return atEnd ? n : 0;
}

} // namespace apex
