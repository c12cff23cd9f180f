#include "stt/pocketsphinx/pronunciationdictionary.h"

#include "stt/pocketsphinx/pocketsphinxdecoder.h"

#include <QDir>
#include <QFile>

namespace apex {

std::shared_ptr<const PronunciationDictionary> PronunciationDictionary::load(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read pronunciation dictionary %1: %2").arg(path, file.errorString());
        return nullptr;
    }
    auto dictionary = fromText(file.readAll());
    if (dictionary->size() == 0) {
        if (error)
            *error = QStringLiteral("pronunciation dictionary %1 is empty").arg(path);
        return nullptr;
    }
    return dictionary;
}

std::shared_ptr<const PronunciationDictionary> PronunciationDictionary::fromText(const QByteArray &text)
{
    std::shared_ptr<PronunciationDictionary> dictionary(new PronunciationDictionary);
    dictionary->parse(text);
    return dictionary;
}

QString PronunciationDictionary::defaultPath()
{
    return QDir(PocketsphinxDecoder::defaultModelDir()).filePath(QStringLiteral("cmudict-en-us.dict"));
}

void PronunciationDictionary::parse(const QByteArray &text)
{
    m_entries.reserve(text.count('\n') + 1);
    qsizetype start = 0;
    while (start < text.size()) {
        qsizetype end = text.indexOf('\n', start);
        if (end < 0)
            end = text.size();
        QByteArray line = text.mid(start, end - start);
        start = end + 1;

        // Some cmudict releases carry "# comment" tails.
        const qsizetype hash = line.indexOf('#');
        if (hash >= 0)
            line.truncate(hash);
        line = line.simplified();
        const qsizetype space = line.indexOf(' ');
        if (line.isEmpty() || space <= 0)
            continue;

        QByteArray word = line.left(space).toLower();
        const QByteArray phones = line.mid(space + 1);
        if (word.endsWith(')')) {
            const qsizetype open = word.lastIndexOf('(');
            if (open > 0)
                word.truncate(open);
        }
        QByteArray &entry = m_entries[word];
        if (!entry.isEmpty())
            entry += '\n';
        entry += phones;
    }
}

bool PronunciationDictionary::contains(const QString &word) const
{
    return m_entries.contains(word.toUtf8());
}

QStringList PronunciationDictionary::pronunciations(const QString &word) const
{
    const auto it = m_entries.constFind(word.toUtf8());
    if (it == m_entries.cend())
        return {};
    QStringList result;
    for (const QByteArray &phones : it.value().split('\n'))
        result << QString::fromUtf8(phones);
    return result;
}

QByteArray PronunciationDictionary::restrictedTo(const QStringList &words) const
{
    QByteArray out;
    for (const QString &word : words) {
        const QByteArray key = word.toUtf8();
        const auto it = m_entries.constFind(key);
        if (it == m_entries.cend())
            continue;
        int variant = 1;
        for (const QByteArray &phones : it.value().split('\n')) {
            out += key;
            if (variant > 1)
                out += '(' + QByteArray::number(variant) + ')';
            out += ' ' + phones + '\n';
            ++variant;
        }
    }
    return out;
}

} // namespace apex
