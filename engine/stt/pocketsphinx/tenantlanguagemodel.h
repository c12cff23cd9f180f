#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace apex {

struct Tenant;
class PronunciationDictionary;

// What a caller is likely to say to one tenant, as pocketsphinx wants it: an
// ARPA n-gram model and a pronouncing dictionary over the same vocabulary.
//
// Built from the tenant's FAQ questions and keywords plus generic call phrases.
// A small closed vocabulary is the point: on telephone-band audio the generic
// English model recognises almost nothing, while a model that expects "what are
// your opening hours" gets most FAQ questions through. Witten-Bell smoothing with
// backoff down to a unigram floor keeps any sequence of known words possible.
//
// Pure: no pocketsphinx, no files unless writeFiles() is called.
class TenantLanguageModel
{
public:
    struct Settings
    {
        int order = 3;                     // 1..3; trigrams pay off even with little text
        bool includeCommonCallPhrases = true;
    };

    // Greetings, yes/no, politeness and request frames most calls contain.
    static QStringList commonCallPhrases();
    // The tenant's own text: FAQ questions, then each entry's keywords.
    static QStringList tenantSentences(const Tenant &tenant);

    // Lower case, punctuation stripped, simple numbers, times and prices spelled
    // out ("24" -> "twenty four", "9:30" -> "nine thirty", "$5" -> "five dollars"),
    // apostrophes inside words kept as cmudict spells them ("don't").
    static QStringList normalizeWords(const QString &text);
    static QString numberToWords(qint64 number);
    static QString ordinalToWords(qint64 number);

    static TenantLanguageModel build(const QStringList &sentences, const PronunciationDictionary &dictionary,
                                     Settings settings);
    static TenantLanguageModel build(const QStringList &sentences, const PronunciationDictionary &dictionary)
    {
        return build(sentences, dictionary, Settings{});
    }
    static TenantLanguageModel forTenant(const Tenant &tenant, const PronunciationDictionary &dictionary,
                                         Settings settings);
    static TenantLanguageModel forTenant(const Tenant &tenant, const PronunciationDictionary &dictionary)
    {
        return forTenant(tenant, dictionary, Settings{});
    }

    bool isEmpty() const { return m_vocabulary.isEmpty(); }
    int order() const { return m_order; }
    // Sorted, without <s> and </s>.
    const QStringList &vocabulary() const { return m_vocabulary; }
    // Words of the input missing from the pronouncing dictionary, sorted.
    const QStringList &droppedWords() const { return m_droppedWords; }
    const QByteArray &arpa() const { return m_arpa; }
    const QByteArray &dictionary() const { return m_dictionary; }

    bool writeFiles(const QString &lmPath, const QString &dictPath, QString *error = nullptr) const;

private:
    int m_order = 0;
    QStringList m_vocabulary;
    QStringList m_droppedWords;
    QByteArray m_arpa;
    QByteArray m_dictionary;
};

} // namespace apex
