#include "pipeline/playoutposition.h"

#include <algorithm>

namespace apex {

PlayoutPosition::PlayoutPosition(QList<SentencePlayout> sentences)
    : m_sentences(std::move(sentences))
{
    m_inProgress = int(m_sentences.size());
    for (int i = 0; i < m_sentences.size(); ++i) {
        const SentencePlayout &s = m_sentences.at(i);
        const bool allSent = s.synthesisComplete && s.bytesSent >= s.bytesSynthesised && s.bytesSent > 0;
        if (s.markEchoed || allSent)
            continue;
        m_inProgress = i;
        const qint64 length = s.synthesisComplete
                                  ? s.bytesSynthesised
                                  : std::max(s.bytesSynthesised, qint64(s.text.size()) * kEstimatedBytesPerChar);
        m_fraction = length > 0 ? std::clamp(double(s.bytesSent) / double(length), 0.0, 1.0) : 0.0;
        break;
    }
}

qsizetype PlayoutPosition::heardPrefix(const QString &sentence, double fraction)
{
    qsizetype first = 0;
    while (first < sentence.size() && sentence.at(first).isSpace())
        ++first;
    qsizetype last = sentence.size();
    while (last > first && sentence.at(last - 1).isSpace())
        --last;
    const double reached = fraction * double(last - first);
    qsizetype heard = 0;
    for (qsizetype i = first; i < last;) {
        qsizetype end = i;
        while (end < last && !sentence.at(end).isSpace())
            ++end;
        if (double(end - first) > reached + 1e-9)
            break;
        heard = end;
        i = end;
        while (i < last && sentence.at(i).isSpace())
            ++i;
    }
    return heard;
}

qsizetype PlayoutPosition::charsIn(const QString &reply, bool withPartialSentence) const
{
    qsizetype cursor = 0;
    for (int i = 0; i < m_sentences.size() && i <= m_inProgress; ++i) {
        const QString &text = m_sentences.at(i).text;
        const qsizetype at = reply.indexOf(text, cursor);
        if (at < 0)
            break; // the reply was not the sentences' source: stop at what is certain
        if (i < m_inProgress) {
            cursor = at + text.size();
            continue;
        }
        if (const qsizetype prefix = withPartialSentence ? heardPrefix(text, m_fraction) : 0; prefix > 0)
            cursor = at + prefix;
    }
    return cursor;
}

qsizetype PlayoutPosition::heardChars(const QString &reply) const { return charsIn(reply, true); }

qsizetype PlayoutPosition::wholeSentenceChars(const QString &reply) const { return charsIn(reply, false); }

} // namespace apex
