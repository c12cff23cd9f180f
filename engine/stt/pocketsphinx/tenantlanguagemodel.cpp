#include "stt/pocketsphinx/tenantlanguagemodel.h"

#include "observability/logging.h"
#include "stt/pocketsphinx/pronunciationdictionary.h"
#include "tenancy/tenant.h"

#include <QFile>
#include <QHash>
#include <QMap>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>

#include <cmath>
#include <functional>

namespace apex {

namespace {

const QString kSentenceStart = QStringLiteral("<s>");
const QString kSentenceEnd = QStringLiteral("</s>");

void replaceMatches(QString &text, const QRegularExpression &pattern,
                    const std::function<QString(const QRegularExpressionMatch &)> &replacement)
{
    QString out;
    qsizetype last = 0;
    auto it = pattern.globalMatch(text);
    if (!it.hasNext())
        return;
    while (it.hasNext()) {
        const QRegularExpressionMatch match = it.next();
        out += QStringView(text).mid(last, match.capturedStart() - last);
        out += QLatin1Char(' ') + replacement(match) + QLatin1Char(' ');
        last = match.capturedEnd();
    }
    out += QStringView(text).mid(last);
    text = out;
}

QString digitsToWords(QStringView digits)
{
    QStringList words;
    for (QChar c : digits)
        words << TenantLanguageModel::numberToWords(c.digitValue());
    return words.join(QLatin1Char(' '));
}

QString log10String(double p)
{
    return QString::number(p > 0 ? std::log10(p) : -99.0, 'f', 6);
}

} // namespace

QStringList TenantLanguageModel::commonCallPhrases()
{
    return {
        QStringLiteral("hello"), QStringLiteral("hi"), QStringLiteral("hello is this the right number"),
        QStringLiteral("good morning"), QStringLiteral("good afternoon"), QStringLiteral("good evening"),
        QStringLiteral("yes"), QStringLiteral("yes please"), QStringLiteral("yeah"), QStringLiteral("no"),
        QStringLiteral("no thank you"), QStringLiteral("okay"), QStringLiteral("okay thanks"),
        QStringLiteral("thank you"), QStringLiteral("thanks"), QStringLiteral("thank you very much"),
        QStringLiteral("goodbye"), QStringLiteral("bye"), QStringLiteral("that's all"),
        QStringLiteral("that's all thank you"), QStringLiteral("sorry"), QStringLiteral("sorry what"),
        QStringLiteral("can you repeat that"), QStringLiteral("could you say that again"),
        QStringLiteral("i didn't catch that"), QStringLiteral("please speak slowly"),
        QStringLiteral("i would like to book an appointment"), QStringLiteral("i would like to make a booking"),
        QStringLiteral("i would like to cancel my appointment"), QStringLiteral("i would like to talk to someone"),
        QStringLiteral("i want to speak to a person"), QStringLiteral("can i speak to a human"),
        QStringLiteral("i have a question"), QStringLiteral("i need some help"), QStringLiteral("can you help me"),
        QStringLiteral("what are your opening hours"), QStringLiteral("what are your prices"),
        QStringLiteral("where are you located"), QStringLiteral("how much does it cost"),
        QStringLiteral("how do i get there"), QStringLiteral("are you open today"),
        QStringLiteral("are you open tomorrow"), QStringLiteral("do you have"), QStringLiteral("is there"),
        QStringLiteral("how long does it take"), QStringLiteral("when can i come"),
        QStringLiteral("my name is"), QStringLiteral("my number is"), QStringLiteral("what is your address"),
        QStringLiteral("i don't know"), QStringLiteral("i'm not sure"), QStringLiteral("one moment please"),
        QStringLiteral("monday tuesday wednesday thursday friday saturday sunday"),
        QStringLiteral("one two three four five six seven eight nine ten zero"),
    };
}

QStringList TenantLanguageModel::tenantSentences(const Tenant &tenant)
{
    QStringList sentences;
    for (const FaqEntry &entry : tenant.faq) {
        if (!entry.question.trimmed().isEmpty())
            sentences << entry.question;
    }
    for (const FaqEntry &entry : tenant.faq)
        sentences << entry.keywords;
    return sentences;
}

QString TenantLanguageModel::numberToWords(qint64 number)
{
    static const char *const small[] = {"zero", "one", "two", "three", "four", "five", "six",
                                        "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
                                        "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    static const char *const tens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
    if (number < 0)
        return QStringLiteral("minus ") + numberToWords(-number);
    if (number < 20)
        return QLatin1String(small[number]);
    if (number < 100) {
        QString words = QLatin1String(tens[number / 10]);
        if (number % 10)
            words += QLatin1Char(' ') + QLatin1String(small[number % 10]);
        return words;
    }
    struct Scale { qint64 value; const char *name; };
    static const Scale scales[] = {{1000000000, "billion"}, {1000000, "million"}, {1000, "thousand"}, {100, "hundred"}};
    for (const Scale &scale : scales) {
        if (number >= scale.value) {
            QString words = numberToWords(number / scale.value) + QLatin1Char(' ') + QLatin1String(scale.name);
            if (number % scale.value)
                words += QLatin1Char(' ') + numberToWords(number % scale.value);
            return words;
        }
    }
    return {};
}

QString TenantLanguageModel::ordinalToWords(qint64 number)
{
    QString words = numberToWords(number);
    static const QHash<QString, QString> irregular = {
        {QStringLiteral("one"), QStringLiteral("first")},   {QStringLiteral("two"), QStringLiteral("second")},
        {QStringLiteral("three"), QStringLiteral("third")}, {QStringLiteral("five"), QStringLiteral("fifth")},
        {QStringLiteral("eight"), QStringLiteral("eighth")}, {QStringLiteral("nine"), QStringLiteral("ninth")},
        {QStringLiteral("twelve"), QStringLiteral("twelfth")},
    };
    const qsizetype space = words.lastIndexOf(QLatin1Char(' '));
    const QString head = words.left(space + 1);
    const QString last = words.mid(space + 1);
    if (irregular.contains(last))
        return head + irregular.value(last);
    if (last.endsWith(QLatin1Char('y')))
        return head + last.chopped(1) + QStringLiteral("ieth");
    return words + QStringLiteral("th");
}

QStringList TenantLanguageModel::normalizeWords(const QString &text)
{
    QString s = text.normalized(QString::NormalizationForm_KD);
    s.removeIf([](QChar c) { return c.category() == QChar::Mark_NonSpacing; });
    s = s.toLower();
    s.replace(QChar(0x2019), QLatin1Char('\'')).replace(QChar(0x2018), QLatin1Char('\''));

    static const QRegularExpression thousands(QStringLiteral(R"((\d),(\d{3})\b)"));
    while (s.contains(thousands))
        s.replace(thousands, QStringLiteral("\\1\\2"));

    static const QRegularExpression currency(QStringLiteral(R"(\$\s?(\d+)(?:\.(\d\d))?)"));
    replaceMatches(s, currency, [](const QRegularExpressionMatch &m) {
        const qint64 dollars = m.captured(1).toLongLong();
        QString words = numberToWords(dollars) + (dollars == 1 ? QStringLiteral(" dollar") : QStringLiteral(" dollars"));
        const int cents = m.captured(2).toInt();
        if (cents > 0)
            words += QStringLiteral(" and ") + numberToWords(cents) + (cents == 1 ? QStringLiteral(" cent") : QStringLiteral(" cents"));
        return words;
    });

    static const QRegularExpression percent(QStringLiteral(R"((\d+)\s?%)"));
    replaceMatches(s, percent, [](const QRegularExpressionMatch &m) {
        return m.captured(1) + QStringLiteral(" percent");
    });

    // "9am", "5 p.m." are read as letters; "am" alone would be the verb.
    static const QRegularExpression clock(QStringLiteral(R"(\b(\d{1,2}):(\d\d)(?!\d)\s?(?:([ap])\.?m\b\.?)?)"));
    replaceMatches(s, clock, [](const QRegularExpressionMatch &m) {
        QString words = numberToWords(m.captured(1).toInt());
        const int minutes = m.captured(2).toInt();
        if (minutes > 0 && minutes < 10)
            words += QStringLiteral(" oh ") + numberToWords(minutes);
        else if (minutes >= 10)
            words += QLatin1Char(' ') + numberToWords(minutes);
        if (m.hasCaptured(3))
            words += QLatin1Char(' ') + m.captured(3) + QStringLiteral(" m");
        return words;
    });

    static const QRegularExpression meridiem(QStringLiteral(R"((\d+)\s?([ap])\.?m\b\.?)"));
    replaceMatches(s, meridiem, [](const QRegularExpressionMatch &m) {
        return m.captured(1) + QLatin1Char(' ') + m.captured(2) + QStringLiteral(" m");
    });

    static const QRegularExpression ordinal(QStringLiteral(R"(\b(\d{1,4})(st|nd|rd|th)\b)"));
    replaceMatches(s, ordinal, [](const QRegularExpressionMatch &m) {
        return ordinalToWords(m.captured(1).toLongLong());
    });

    static const QRegularExpression decimal(QStringLiteral(R"((\d+)\.(\d+))"));
    replaceMatches(s, decimal, [](const QRegularExpressionMatch &m) {
        return m.captured(1) + QStringLiteral(" point ") + digitsToWords(m.captured(2));
    });

    s.replace(QLatin1Char('&'), QStringLiteral(" and "))
        .replace(QLatin1Char('+'), QStringLiteral(" plus "))
        .replace(QLatin1Char('@'), QStringLiteral(" at "))
        .replace(QLatin1Char('%'), QStringLiteral(" percent "));

    static const QRegularExpression digitLetter(QStringLiteral(R"((\d)([a-z])|([a-z])(\d))"));
    while (s.contains(digitLetter))
        s.replace(digitLetter, QStringLiteral("\\1\\3 \\2\\4"));

    for (QChar &c : s) {
        const bool keep = (c >= QLatin1Char('a') && c <= QLatin1Char('z')) || c.isDigit() || c == QLatin1Char('\'');
        if (!keep)
            c = QLatin1Char(' ');
    }

    QStringList words;
    for (QString token : s.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        while (token.startsWith(QLatin1Char('\'')))
            token.remove(0, 1);
        while (token.endsWith(QLatin1Char('\'')))
            token.chop(1);
        if (token.isEmpty())
            continue;
        if (token.front().isDigit()) {
            // Long digit runs and leading zeros are codes and phone numbers: read digit by digit.
            const bool spellDigits = token.size() > 4 || (token.size() > 1 && token.front() == QLatin1Char('0'));
            const QString spoken = spellDigits ? digitsToWords(token) : numberToWords(token.toLongLong());
            words << spoken.split(QLatin1Char(' '), Qt::SkipEmptyParts);
            continue;
        }
        words << token;
    }
    return words;
}

TenantLanguageModel TenantLanguageModel::forTenant(const Tenant &tenant, const PronunciationDictionary &dictionary,
                                                   Settings settings)
{
    return build(tenantSentences(tenant), dictionary, settings);
}

TenantLanguageModel TenantLanguageModel::build(const QStringList &input, const PronunciationDictionary &dictionary,
                                               Settings settings)
{
    TenantLanguageModel model;
    const int maxOrder = std::clamp(settings.order, 1, 3);

    QStringList sentences = input;
    if (settings.includeCommonCallPhrases)
        sentences += commonCallPhrases();

    // An empty token marks a dropped word: no n-gram spans it, so removing a word
    // does not invent a word pair nobody said.
    const QString gap;
    QList<QStringList> tokenized;
    QSet<QString> vocabulary;
    QSet<QString> dropped;
    for (const QString &sentence : std::as_const(sentences)) {
        const QStringList words = normalizeWords(sentence);
        if (words.isEmpty())
            continue;
        QStringList tokens{kSentenceStart};
        for (const QString &word : words) {
            if (dictionary.contains(word)) {
                tokens << word;
                vocabulary.insert(word);
            } else {
                tokens << gap;
                dropped.insert(word);
            }
        }
        tokens << kSentenceEnd;
        tokenized << tokens;
    }

    model.m_vocabulary = QStringList(vocabulary.cbegin(), vocabulary.cend());
    model.m_vocabulary.sort();
    model.m_droppedWords = QStringList(dropped.cbegin(), dropped.cend());
    model.m_droppedWords.sort();
    if (!model.m_droppedWords.isEmpty())
        log::get("stt")->info("language model: {} word(s) missing from the pronouncing dictionary dropped: {}",
                              model.m_droppedWords.size(), model.m_droppedWords.join(QStringLiteral(", ")));
    if (model.m_vocabulary.isEmpty())
        return model;

    // counts[k]: k-gram ("w1 w2 ... wk") -> occurrences.
    QList<QHash<QString, int>> counts(maxOrder + 1);
    for (const QStringList &tokens : std::as_const(tokenized)) {
        for (qsizetype i = 0; i < tokens.size(); ++i) {
            for (int k = 1; k <= maxOrder && i + k <= tokens.size(); ++k) {
                const QStringList gram = tokens.mid(i, k);
                if (gram.contains(gap))
                    break;
                ++counts[k][gram.join(QLatin1Char(' '))];
            }
        }
    }
    int order = maxOrder;
    while (order > 1 && counts[order].isEmpty())
        --order;
    model.m_order = order;

    // probs[k]: k-gram -> P(last word | the others); backoff[k]: k-gram as a history -> weight.
    QList<QHash<QString, double>> probs(order + 1);
    QList<QHash<QString, double>> backoff(order + 1);

    // Unigrams: Witten-Bell against a uniform distribution over what may follow
    // (every word and </s>, never <s>); with every type seen this is add-one.
    double total = 0;
    int types = 0;
    for (auto it = counts[1].cbegin(); it != counts[1].cend(); ++it) {
        if (it.key() == kSentenceStart)
            continue;
        total += it.value();
        ++types;
    }
    for (auto it = counts[1].cbegin(); it != counts[1].cend(); ++it) {
        if (it.key() != kSentenceStart)
            probs[1].insert(it.key(), (it.value() + 1.0) / (total + types));
    }

    std::function<double(const QStringList &, const QString &)> probability =
        [&](const QStringList &history, const QString &word) -> double {
        if (history.isEmpty())
            return probs[1].value(word, 0.0);
        const QString key = history.join(QLatin1Char(' ')) + QLatin1Char(' ') + word;
        const auto seen = probs[history.size() + 1].constFind(key);
        if (seen != probs[history.size() + 1].cend())
            return seen.value();
        return backoff[history.size()].value(history.join(QLatin1Char(' ')), 1.0) * probability(history.mid(1), word);
    };

    for (int k = 2; k <= order; ++k) {
        QHash<QString, int> historyTotal;
        QHash<QString, int> historyTypes;
        for (auto it = counts[k].cbegin(); it != counts[k].cend(); ++it) {
            const QString history = it.key().left(it.key().lastIndexOf(QLatin1Char(' ')));
            historyTotal[history] += it.value();
            historyTypes[history] += 1;
        }
        // Interpolated Witten-Bell: P(w|h) = (c(h,w) + T(h) P(w|h')) / (c(h) + T(h)).
        // The mass left for unseen words is then exactly T(h)/(c(h)+T(h)) of the
        // lower-order distribution, which is the backoff weight ARPA stores.
        for (auto it = historyTotal.cbegin(); it != historyTotal.cend(); ++it) {
            const double t = historyTypes.value(it.key());
            backoff[k - 1].insert(it.key(), t / (it.value() + t));
        }
        for (auto it = counts[k].cbegin(); it != counts[k].cend(); ++it) {
            const QStringList gram = it.key().split(QLatin1Char(' '));
            const QStringList history = gram.mid(0, k - 1);
            const QString historyKey = history.join(QLatin1Char(' '));
            const double c = historyTotal.value(historyKey);
            const double t = historyTypes.value(historyKey);
            const double lower = probability(history.mid(1), gram.last());
            probs[k].insert(it.key(), (it.value() + t * lower) / (c + t));
        }
    }

    QByteArray arpa;
    arpa += "\\data\\\n";
    arpa += "ngram 1=" + QByteArray::number(probs[1].size() + 1) + '\n';
    for (int k = 2; k <= order; ++k)
        arpa += "ngram " + QByteArray::number(k) + '=' + QByteArray::number(probs[k].size()) + '\n';
    for (int k = 1; k <= order; ++k) {
        arpa += "\n\\" + QByteArray::number(k) + "-grams:\n";
        QMap<QString, double> sorted;
        for (auto it = probs[k].cbegin(); it != probs[k].cend(); ++it)
            sorted.insert(it.key(), it.value());
        if (k == 1)
            sorted.insert(kSentenceStart, 0.0); // never predicted; present as a history
        for (auto it = sorted.cbegin(); it != sorted.cend(); ++it) {
            QString line = log10String(it.value()) + QLatin1Char(' ') + it.key();
            if (k < order) {
                const auto weight = backoff[k].constFind(it.key());
                if (weight != backoff[k].cend())
                    line += QLatin1Char(' ') + log10String(weight.value());
            }
            arpa += line.toUtf8() + '\n';
        }
    }
    arpa += "\n\\end\\\n";
    model.m_arpa = arpa;
    model.m_dictionary = dictionary.restrictedTo(model.m_vocabulary);
    return model;
}

bool TenantLanguageModel::writeFiles(const QString &lmPath, const QString &dictPath, QString *error) const
{
    const auto write = [error](const QString &path, const QByteArray &bytes) {
        QSaveFile file(path);
        if (file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit())
            return true;
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    };
    if (isEmpty()) {
        if (error)
            *error = QStringLiteral("the language model has no words");
        return false;
    }
    return write(lmPath, m_arpa) && write(dictPath, m_dictionary);
}

} // namespace apex
