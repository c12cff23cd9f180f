#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

#include <memory>

namespace apex {

// A CMU-format pronouncing dictionary ("word PH ON ES", alternates as "word(2)").
// Immutable after loading, so one instance is shared by every tenant and thread.
class PronunciationDictionary
{
public:
    // Reads a dictionary file; null with *error set when unreadable or empty.
    static std::shared_ptr<const PronunciationDictionary> load(const QString &path, QString *error = nullptr);
    // Parses dictionary text (tests build small ones by hand).
    static std::shared_ptr<const PronunciationDictionary> fromText(const QByteArray &text);
    // cmudict-en-us.dict in the pocketsphinx model folder.
    static QString defaultPath();

    bool contains(const QString &word) const;
    // Phone strings of one word, the primary first, then "(2)", "(3)", ...
    QStringList pronunciations(const QString &word) const;
    int size() const { return int(m_entries.size()); }

    // The dictionary file pocketsphinx reads, restricted to `words` (those not
    // in the dictionary are skipped), alternates numbered as in cmudict.
    QByteArray restrictedTo(const QStringList &words) const;

private:
    PronunciationDictionary() = default;
    void parse(const QByteArray &text);

    // Word -> pronunciations joined by '\n'; one string per word keeps the
    // 135k-entry cmudict at a few MB instead of a list allocation per entry.
    QHash<QByteArray, QByteArray> m_entries;
};

} // namespace apex
