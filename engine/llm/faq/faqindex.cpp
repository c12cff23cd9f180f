#include "llm/faq/faqindex.h"

#include <QSet>

#include <algorithm>
#include <cmath>

namespace apex {

namespace {

constexpr double k1 = 1.2;
constexpr double b = 0.75;

// Question and keywords are written to be matched; the answer is written to be
// spoken and mentions many things the caller did not ask about.
constexpr double questionFieldWeight = 2.0;
constexpr double keywordFieldWeight = 2.0;
constexpr double answerFieldWeight = 1.0;
constexpr double answerOnlyStrength = 0.6;

constexpr double equivalentWeight = 0.95;
constexpr double relatedWeight = 0.7;
constexpr double oneEditWeight = 0.8;
constexpr double twoEditsWeight = 0.65;
constexpr double prefixWeight = 0.75;
constexpr double unknownWordImportance = 0.5;

const QSet<QString> &stopWords()
{
    // "ours" and "yours" are left out on purpose: recognisers hear "hours" as "ours".
    static const QSet<QString> words = [] {
        const char *list[] = {
            "a", "about", "actually", "after", "again", "all", "also", "am", "an", "and", "any",
            "anything", "anywhere", "are", "as", "at", "be", "because", "been", "before", "being",
            "but", "by", "can", "could", "did", "do", "does", "doing", "dont", "er", "for", "from",
            "get", "go", "going", "got", "had", "has", "have", "having", "he", "her", "here", "him",
            "his", "hmm", "how", "i", "id", "if", "im", "in", "into", "is", "it", "its", "ive", "just",
            "let", "lets", "like", "may", "maybe", "me", "might", "my", "need", "no", "not", "now",
            "of", "off", "ok", "okay", "on", "one", "or", "our", "please", "really", "she", "should",
            "so", "some", "something", "somewhere", "such", "tell", "than", "that", "thats", "the",
            "their", "them", "then", "there", "theres", "these", "they", "this", "those", "to",
            "too", "uh", "um", "umm", "us", "very", "want", "was", "we", "well", "were", "what",
            "whats", "when", "which", "who", "will", "with", "wonder", "would", "yeah", "yes",
            "you", "youd", "youll", "your", "youre", "know",
        };
        QSet<QString> set;
        for (const char *w : list)
            set.insert(QString::fromLatin1(w));
        return set;
    }();
    return words;
}

// Words recognisers write for a call-centre word that sounds the same. Used only
// when the heard word is not itself in the tenant's FAQ.
const QHash<QString, QString> &homophones()
{
    static const QHash<QString, QString> map = {
        {QStringLiteral("wear"), QStringLiteral("where")},
        {QStringLiteral("ware"), QStringLiteral("where")},
        {QStringLiteral("ours"), QStringLiteral("hours")},
        {QStringLiteral("half"), QStringLiteral("have")},
        {QStringLiteral("except"), QStringLiteral("accept")},
        {QStringLiteral("coast"), QStringLiteral("cost")},
    };
    return map;
}

const QHash<QString, QString> &irregularForms()
{
    static const QHash<QString, QString> forms = {
        {QStringLiteral("children"), QStringLiteral("child")},
        {QStringLiteral("kids"), QStringLiteral("kid")},
        {QStringLiteral("teeth"), QStringLiteral("tooth")},
        {QStringLiteral("people"), QStringLiteral("person")},
        {QStringLiteral("women"), QStringLiteral("woman")},
        {QStringLiteral("men"), QStringLiteral("man")},
        {QStringLiteral("paid"), QStringLiteral("pay")},
    };
    return forms;
}

struct SynonymGroup
{
    QStringList words;
    double weight;
};

// Call-centre vocabulary. "Equivalent" groups are spellings and forms the stemmer
// does not fold; "related" groups are different words callers use for the same
// question. Stemmed once at first use.
const QList<SynonymGroup> &synonymGroups()
{
    static const QList<SynonymGroup> groups = [] {
        const QList<QPair<QStringList, double>> raw = {
            {{"cost", "price", "fee", "charge", "much", "expensive", "cheap", "rate", "afford"}, relatedWeight},
            {{"open", "hour", "timing", "time", "close", "shut"}, relatedWeight},
            {{"where", "address", "location", "located", "locate", "direction", "find", "situated"}, relatedWeight},
            {{"book", "appointment", "schedule", "reserve", "slot", "visit"}, relatedWeight},
            {{"emergency", "urgent", "pain", "hurt", "ache", "toothache", "bleeding", "swollen"}, relatedWeight},
            {{"cancel", "cancelled", "canceled", "cancellation", "cancelling", "reschedule"}, equivalentWeight},
            {{"insurance", "insure", "insured", "insurer", "coverage", "covered", "cover"}, equivalentWeight},
            {{"pay", "payment", "card", "cash", "credit", "debit", "upi"}, relatedWeight},
            {{"child", "kid", "paediatric", "pediatric", "son", "daughter", "baby"}, relatedWeight},
            {{"park", "car", "vehicle"}, relatedWeight},
            {{"clean", "cleaning", "hygiene", "scale", "scaling", "polish"}, relatedWeight},
        };
        QList<SynonymGroup> stemmed;
        for (const auto &[words, weight] : raw) {
            SynonymGroup group{{}, weight};
            for (const QString &w : words) {
                const QString s = FaqIndex::stem(w);
                if (!group.words.contains(s))
                    group.words.append(s);
            }
            stemmed.append(group);
        }
        return stemmed;
    }();
    return groups;
}

bool isAsciiLowerWord(const QString &w)
{
    return std::all_of(w.begin(), w.end(), [](QChar c) { return c >= u'a' && c <= u'z'; });
}

bool isVowel(QChar c)
{
    return c == u'a' || c == u'e' || c == u'i' || c == u'o' || c == u'u' || c == u'y';
}

bool hasVowel(QStringView s)
{
    return std::any_of(s.begin(), s.end(), isVowel);
}

// Levenshtein distance, giving up early beyond `limit`.
int editDistance(QStringView a, QStringView b, int limit)
{
    if (std::abs(a.size() - b.size()) > limit)
        return limit + 1;
    QList<int> prev(b.size() + 1), cur(b.size() + 1);
    for (qsizetype j = 0; j <= b.size(); ++j)
        prev[j] = int(j);
    for (qsizetype i = 1; i <= a.size(); ++i) {
        cur[0] = int(i);
        int rowMin = cur[0];
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            rowMin = std::min(rowMin, cur[j]);
        }
        if (rowMin > limit)
            return limit + 1;
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// How much a recognition error may be trusted: short words only survive a
// dropped or added letter ("ours" for "hours"), because a substituted one turns
// "mars" into "cars"; longer words have room for one or two of any edit.
double fuzzyWeight(const QString &query, const QString &vocab)
{
    const qsizetype len = query.size();
    if (len < 4 || vocab.size() < 3)
        return 0.0;
    if (len >= 5 && vocab.size() > len + 1 && vocab.startsWith(query))
        return prefixWeight;
    const int limit = len >= 8 ? 2 : 1;
    const int d = editDistance(query, vocab, limit);
    if (d == 0)
        return 1.0;
    if (d > limit)
        return 0.0;
    if (len < 5 && vocab.size() != len + 1)
        return 0.0; // a four-letter word may have lost a letter ("ours"); any other edit makes a new word ("play"/"pay")
    return d == 1 ? oneEditWeight : twoEditsWeight;
}

} // namespace

QStringList FaqIndex::words(const QString &text)
{
    QStringList out;
    QString current;
    const QString lower = text.toLower();
    for (QChar c : lower) {
        if (c.isLetterOrNumber() || c.isMark()) {
            current.append(c);
        } else if (c == u'\'' || c == u'\u2019' || c == u'\u02BC') {
            continue; // "what's" -> "whats", one word as the caller said it
        } else if (!current.isEmpty()) {
            out.append(current);
            current.clear();
        }
    }
    if (!current.isEmpty())
        out.append(current);
    return out;
}

QString FaqIndex::stem(const QString &word)
{
    if (const auto it = irregularForms().constFind(word); it != irregularForms().constEnd())
        return it.value();
    if (word.size() <= 3 || !isAsciiLowerWord(word))
        return word;

    QString w = word;
    if (w.endsWith(u"ies") && w.size() > 4)
        w = w.chopped(3) + u'y';
    else if (w.endsWith(u"sses") || w.endsWith(u"ches") || w.endsWith(u"shes") || w.endsWith(u"xes") || w.endsWith(u"zes"))
        w.chop(2);
    else if (w.endsWith(u's') && !w.endsWith(u"ss") && !w.endsWith(u"us") && !w.endsWith(u"is"))
        w.chop(1);

    auto stripSuffix = [&w](QStringView suffix) {
        if (!w.endsWith(suffix) || w.size() - suffix.size() < 3)
            return false;
        const QStringView rest = QStringView(w).left(w.size() - suffix.size());
        if (!hasVowel(rest))
            return false;
        w.chop(suffix.size());
        // "running" -> "run", but "calling" keeps its "ll" (Porter does the same).
        const qsizetype n = w.size();
        if (n >= 2 && w[n - 1] == w[n - 2] && !isVowel(w[n - 1]) && w[n - 1] != u'l' && w[n - 1] != u's' && w[n - 1] != u'z')
            w.chop(1);
        return true;
    };
    if (!stripSuffix(u"ing"))
        stripSuffix(u"ed");
    if (w.endsWith(u"ly") && w.size() >= 6)
        w.chop(2);
    // Fold "close"/"closing"/"closed" and "price"/"prices" onto one stem.
    if (w.endsWith(u'e') && w.size() > 4)
        w.chop(1);
    return w;
}

QStringList FaqIndex::terms(const QString &text)
{
    QStringList out;
    for (const QString &w : words(text)) {
        if (stopWords().contains(w))
            continue;
        const QString s = stem(w);
        if (stopWords().contains(s))
            continue;
        out.append(s);
    }
    return out;
}

FaqIndex::FaqIndex(const QList<FaqEntry> &faq, double threshold)
    : m_entries(faq)
    , m_threshold(threshold)
{
    const int n = int(m_entries.size());
    m_docLength.resize(n);
    double totalLength = 0.0;
    for (int i = 0; i < n; ++i) {
        const FaqEntry &e = m_entries.at(i);
        QHash<QString, double> tf;
        QSet<QString> strongTerms;
        double length = 0.0;
        auto addField = [&](const QString &text, double weight, bool strong) {
            for (const QString &w : words(text)) {
                if (stopWords().contains(w))
                    continue;
                const QString s = stem(w);
                if (stopWords().contains(s))
                    continue;
                tf[s] += weight;
                length += weight;
                if (strong)
                    strongTerms.insert(s);
                m_surfaceToTerm.insert(w, s);
            }
        };
        addField(e.question, questionFieldWeight, true);
        addField(e.keywords.join(u' '), keywordFieldWeight, true);
        addField(e.answer, answerFieldWeight, false);
        for (auto it = tf.cbegin(); it != tf.cend(); ++it)
            m_postings[it.key()].append({i, it.value(), strongTerms.contains(it.key()) ? 1.0 : answerOnlyStrength});
        m_docLength[i] = length;
        totalLength += length;
    }
    m_avgDocLength = n > 0 && totalLength > 0 ? totalLength / n : 1.0;
    m_maxIdf = std::log(1.0 + (n - 1 + 0.5) / (1 + 0.5));
    if (m_maxIdf <= 0)
        m_maxIdf = 1.0;
}

double FaqIndex::idf(const QString &term) const
{
    const auto it = m_postings.constFind(term);
    const double df = it == m_postings.constEnd() ? 0.0 : double(it->size());
    const double n = double(m_entries.size());
    return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

QList<FaqIndex::Expansion> FaqIndex::expand(const QString &word) const
{
    const QString s = stem(word);
    QHash<QString, double> best;
    auto offer = [&best, this](const QString &term, double weight) {
        if (!m_postings.contains(term))
            return;
        double &slot = best[term];
        slot = std::max(slot, weight);
    };

    QList<QPair<QString, double>> bases;
    if (m_postings.contains(s)) {
        bases.append({s, 1.0});
    } else {
        // Only a word the index does not know is treated as a possible recognition error.
        QHash<QString, double> fuzzy;
        for (auto it = m_surfaceToTerm.cbegin(); it != m_surfaceToTerm.cend(); ++it) {
            const double w = fuzzyWeight(word, it.key());
            if (w > 0)
                fuzzy[it.value()] = std::max(fuzzy.value(it.value()), w);
        }
        for (auto it = m_postings.cbegin(); it != m_postings.cend(); ++it) {
            const double w = fuzzyWeight(s, it.key());
            if (w > 0)
                fuzzy[it.key()] = std::max(fuzzy.value(it.key()), w);
        }
        for (auto it = fuzzy.cbegin(); it != fuzzy.cend(); ++it)
            bases.append({it.key(), it.value()});
        bases.append({s, 1.0}); // its synonyms may still be indexed
    }

    for (const auto &[term, weight] : bases) {
        offer(term, weight);
        for (const SynonymGroup &group : synonymGroups()) {
            if (!group.words.contains(term))
                continue;
            for (const QString &other : group.words)
                if (other != term)
                    offer(other, weight * group.weight);
        }
    }

    QList<Expansion> out;
    for (auto it = best.cbegin(); it != best.cend(); ++it)
        out.append({it.key(), it.value()});
    return out;
}

QList<FaqMatch> FaqIndex::rank(const QString &utterance, int limit) const
{
    const int n = int(m_entries.size());
    if (n == 0 || limit <= 0)
        return {};

    QStringList queryWords;
    for (QString w : words(utterance)) {
        if (const auto it = homophones().constFind(w); it != homophones().constEnd() && !m_surfaceToTerm.contains(w))
            w = it.value();
        if (stopWords().contains(w) || stopWords().contains(stem(w)) || queryWords.contains(w))
            continue;
        queryWords.append(w);
    }
    if (queryWords.isEmpty())
        return {};

    QList<double> scores(n, 0.0);
    QList<double> explained(n, 0.0);
    double totalImportance = 0.0;

    for (const QString &word : queryWords) {
        const QList<Expansion> expansions = expand(word);
        // A word the index cannot place at all counts as half the rarest term:
        // enough that "what's the weather on mars" is not answered from one
        // stray match, not so much that a filler adjective ("a terrible
        // toothache") drowns the word that matters.
        double importance = expansions.isEmpty() ? unknownWordImportance * m_maxIdf : 0.0;
        for (const Expansion &e : expansions)
            importance = std::max(importance, idf(e.term));
        totalImportance += importance;

        QList<double> bestScore(n, 0.0);
        QList<double> bestStrength(n, 0.0);
        for (const Expansion &e : expansions) {
            const double termIdf = idf(e.term);
            for (const Posting &p : m_postings.value(e.term)) {
                const double dl = m_docLength.at(p.entryIndex);
                const double tf = p.weightedTf;
                const double bm25 = termIdf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / m_avgDocLength));
                bestScore[p.entryIndex] = std::max(bestScore[p.entryIndex], e.weight * bm25);
                bestStrength[p.entryIndex] = std::max(bestStrength[p.entryIndex], e.weight * p.fieldStrength);
            }
        }
        for (int i = 0; i < n; ++i) {
            scores[i] += bestScore[i];
            explained[i] += importance * bestStrength[i];
        }
    }

    QList<FaqMatch> matches;
    for (int i = 0; i < n; ++i) {
        if (scores[i] <= 0)
            continue;
        const double confidence = totalImportance > 0 ? std::clamp(explained[i] / totalImportance, 0.0, 1.0) : 0.0;
        matches.append({i, scores[i], confidence});
    }
    std::stable_sort(matches.begin(), matches.end(), [](const FaqMatch &a, const FaqMatch &b) {
        return a.score > b.score;
    });
    if (matches.size() > limit)
        matches.resize(limit);
    return matches;
}

std::optional<FaqEntry> FaqIndex::bestMatch(const QString &utterance) const
{
    const QList<FaqMatch> top = rank(utterance, 1);
    if (top.isEmpty() || top.first().confidence < m_threshold)
        return std::nullopt;
    return m_entries.at(top.first().entryIndex);
}

} // namespace apex
