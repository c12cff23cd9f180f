#pragma once

#include "tenancy/tenant.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace apex {

struct FaqMatch
{
    int entryIndex = -1;
    double score = 0.0;      // Okapi BM25 over weighted fields; only comparable within one query
    double confidence = 0.0; // 0..1: share of the query's information this entry explains
};

// Finds the FAQ entry a caller's utterance asks about. Built once per tenant FAQ
// and immutable afterwards, so one instance is shared by every call of the tenant
// and read from any engine thread without locking.
//
// Ranking is Okapi BM25 with field weights (question and keywords count more than
// the answer text). Utterances come from speech recognition, so a query term that
// is not in the index vocabulary is matched to close vocabulary terms (edit
// distance, prefix of a longer word: "parkin", "ours" for "hours") and to a small
// call-centre synonym map, each at a discount.
class FaqIndex
{
public:
    // Tuned on a ten-entry dental FAQ: paraphrases and garbled questions score
    // 0.5 or more, utterances about anything else score 0 to 0.2.
    static constexpr double defaultThreshold = 0.4;

    explicit FaqIndex(const QList<FaqEntry> &faq, double threshold = defaultThreshold);

    // Best first, at most `limit`, only entries sharing at least one term.
    QList<FaqMatch> rank(const QString &utterance, int limit = 3) const;
    // The entry the utterance asks about, or nothing when no entry is confident enough.
    std::optional<FaqEntry> bestMatch(const QString &utterance) const;

    int size() const { return int(m_entries.size()); }
    const FaqEntry &entry(int index) const { return m_entries.at(index); }
    double threshold() const { return m_threshold; }

    // The index's view of a text: lower-case, stop words dropped, stemmed.
    static QStringList terms(const QString &text);
    // Lower-case words, punctuation and apostrophes removed, nothing dropped.
    static QStringList words(const QString &text);
    static QString stem(const QString &word);

private:
    struct Posting
    {
        int entryIndex = 0;
        double weightedTf = 0.0; // field-weighted term frequency
        double fieldStrength = 0.0; // 1 when in question or keywords, less when only in the answer
    };
    struct Expansion
    {
        QString term;
        double weight = 1.0;
    };

    QList<Expansion> expand(const QString &word) const;
    double idf(const QString &term) const;

    QList<FaqEntry> m_entries;
    QHash<QString, QList<Posting>> m_postings; // stemmed term -> entries containing it
    QHash<QString, QString> m_surfaceToTerm;  // unstemmed vocabulary word -> its term, for fuzzy matching
    QList<double> m_docLength;
    double m_avgDocLength = 1.0;
    double m_maxIdf = 1.0;
    double m_threshold = defaultThreshold;
};

} // namespace apex
