#include "stt/pocketsphinx/pronunciationdictionary.h"
#include "stt/pocketsphinx/tenantlanguagemodel.h"
#include "tenancy/tenant.h"

#include <QHash>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <cmath>

using namespace apex;

namespace {

// A parsed ARPA file, enough to evaluate P(w | history) with backoff.
struct Arpa
{
    int order = 0;
    QHash<int, int> declared;                // order -> "ngram k=" count
    QList<QHash<QString, double>> logProb;   // [k] key -> log10 p
    QList<QHash<QString, double>> logBackoff;
    QString error;

    double prob(QStringList history, const QString &word) const
    {
        while (history.size() >= order)
            history.removeFirst();
        for (;;) {
            const QString key = (history + QStringList{word}).join(QLatin1Char(' '));
            const auto it = logProb[history.size() + 1].constFind(key);
            if (it != logProb[history.size() + 1].cend())
                return std::pow(10.0, it.value());
            if (history.isEmpty())
                return 0.0;
            const double bow = logBackoff[history.size()].value(history.join(QLatin1Char(' ')), 0.0);
            // Continue one order down, scaled by the backoff weight.
            return std::pow(10.0, bow) * prob(history.mid(1), word);
        }
    }
};

Arpa parseArpa(const QByteArray &text)
{
    Arpa arpa;
    arpa.logProb.resize(4);
    arpa.logBackoff.resize(4);
    const QStringList lines = QString::fromUtf8(text).split(QLatin1Char('\n'));
    int section = -1;
    bool ended = false;
    static const QRegularExpression ngramLine(QStringLiteral(R"(^ngram (\d)=(\d+)$)"));
    static const QRegularExpression header(QStringLiteral(R"(^\\(\d)-grams:$)"));
    for (const QString &line : lines) {
        if (line.isEmpty())
            continue;
        if (line == QLatin1String("\\data\\")) {
            section = 0;
            continue;
        }
        if (line == QLatin1String("\\end\\")) {
            ended = true;
            continue;
        }
        if (const auto m = ngramLine.match(line); m.hasMatch() && section == 0) {
            arpa.declared.insert(m.captured(1).toInt(), m.captured(2).toInt());
            arpa.order = std::max(arpa.order, m.captured(1).toInt());
            continue;
        }
        if (const auto m = header.match(line); m.hasMatch()) {
            section = m.captured(1).toInt();
            continue;
        }
        const QStringList fields = line.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        if (section < 1 || fields.size() < section + 1 || fields.size() > section + 2) {
            arpa.error = QStringLiteral("bad line: ") + line;
            return arpa;
        }
        bool ok = false;
        const double lp = fields.first().toDouble(&ok);
        if (!ok) {
            arpa.error = QStringLiteral("bad probability: ") + line;
            return arpa;
        }
        const QString key = fields.mid(1, section).join(QLatin1Char(' '));
        arpa.logProb[section].insert(key, lp);
        if (fields.size() == section + 2)
            arpa.logBackoff[section].insert(key, fields.last().toDouble());
    }
    if (!ended)
        arpa.error = QStringLiteral("no \\end\\");
    return arpa;
}

} // namespace

class TestSttLm : public QObject
{
    Q_OBJECT

private:
    std::shared_ptr<const PronunciationDictionary> m_cmudict;

    static Tenant clinic()
    {
        Tenant tenant;
        tenant.id = QStringLiteral("clinic");
        tenant.faq = {
            {QStringLiteral("What are your opening hours?"), QStringLiteral("9 to 5."), {}},
            {QStringLiteral("Where is the clinic?"), QStringLiteral("Main street."), {QStringLiteral("address"), QStringLiteral("directions")}},
            {QStringLiteral("Do you have parking?"), QStringLiteral("Yes."), {}},
            {QStringLiteral("How much does a cleaning cost?"), QStringLiteral("$80."), {}},
            {QStringLiteral("Can I see Dr. Zyxwvut on Saturdays?"), QStringLiteral("No."), {}},
        };
        return tenant;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        m_cmudict = PronunciationDictionary::load(PronunciationDictionary::defaultPath(), &error);
        QVERIFY2(m_cmudict, qPrintable(error));
        QVERIFY(m_cmudict->size() > 100000);
    }

    void normalization_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("words");
        QTest::newRow("punctuation") << "What are your Opening-Hours?!" << "what are your opening hours";
        QTest::newRow("apostrophes") << "Don't you 'open' on Sundays?" << "don't you open on sundays";
        QTest::newRow("curly apostrophe") << QString::fromUtf8("We\u2019re closed") << "we're closed";
        QTest::newRow("number") << "Open 24/7" << "open twenty four seven";
        QTest::newRow("hundreds") << "315 patients" << "three hundred fifteen patients";
        QTest::newRow("thousands") << "1,200 people" << "one thousand two hundred people";
        QTest::newRow("time") << "From 9:30am to 5pm" << "from nine thirty a m to five p m";
        QTest::newRow("time oh") << "at 7:05" << "at seven oh five";
        QTest::newRow("price") << "It costs $80.50" << "it costs eighty dollars and fifty cents";
        QTest::newRow("percent") << "10% off" << "ten percent off";
        QTest::newRow("ordinal") << "the 1st and 22nd floor" << "the first and twenty second floor";
        QTest::newRow("phone digits") << "call 5551234" << "call five five five one two three four";
        QTest::newRow("accents") << QString::fromUtf8("caf\u00e9 & bar") << "cafe and bar";
    }

    void normalization()
    {
        QFETCH(QString, text);
        QFETCH(QString, words);
        QCOMPARE(TenantLanguageModel::normalizeWords(text).join(QLatin1Char(' ')), words);
    }

    void numberWords()
    {
        QCOMPARE(TenantLanguageModel::numberToWords(0), QStringLiteral("zero"));
        QCOMPARE(TenantLanguageModel::numberToWords(40), QStringLiteral("forty"));
        QCOMPARE(TenantLanguageModel::numberToWords(2024), QStringLiteral("two thousand twenty four"));
        QCOMPARE(TenantLanguageModel::ordinalToWords(30), QStringLiteral("thirtieth"));
        QCOMPARE(TenantLanguageModel::ordinalToWords(103), QStringLiteral("one hundred third"));
    }

    void arpaIsWellFormedAndNormalised_data()
    {
        QTest::addColumn<int>("order");
        QTest::newRow("unigram") << 1;
        QTest::newRow("bigram") << 2;
        QTest::newRow("trigram") << 3;
    }

    void arpaIsWellFormedAndNormalised()
    {
        QFETCH(int, order);
        TenantLanguageModel::Settings settings;
        settings.order = order;
        const TenantLanguageModel model = TenantLanguageModel::forTenant(clinic(), *m_cmudict, settings);
        QCOMPARE(model.order(), order);
        const Arpa arpa = parseArpa(model.arpa());
        QVERIFY2(arpa.error.isEmpty(), qPrintable(arpa.error));
        QCOMPARE(arpa.order, order);
        for (int k = 1; k <= order; ++k)
            QCOMPARE(arpa.declared.value(k), int(arpa.logProb[k].size()));

        // Unigrams: every word, <s> and </s>; <s> is never predicted.
        QCOMPARE(arpa.logProb[1].size(), model.vocabulary().size() + 2);
        QCOMPARE(arpa.logProb[1].value(QStringLiteral("<s>")), -99.0);
        QVERIFY(arpa.logBackoff[order > 1 ? 1 : 0].isEmpty() == (order == 1));

        // The full distribution after any history sums to one, seen or not,
        // and every in-vocabulary word keeps a non-zero probability.
        QStringList outcomes = model.vocabulary();
        outcomes << QStringLiteral("</s>");
        const QList<QStringList> histories = {
            {},
            {QStringLiteral("<s>")},
            {QStringLiteral("what")},
            {QStringLiteral("<s>"), QStringLiteral("what")},
            {QStringLiteral("what"), QStringLiteral("are")},
            {QStringLiteral("parking"), QStringLiteral("hours")}, // never seen together
            {QStringLiteral("hours")},
        };
        for (const QStringList &history : histories) {
            double sum = 0;
            double smallest = 1;
            for (const QString &word : std::as_const(outcomes)) {
                const double p = arpa.prob(history, word);
                sum += p;
                smallest = std::min(smallest, p);
            }
            QVERIFY2(std::abs(sum - 1.0) < 1e-3, qPrintable(QStringLiteral("history '%1' sums to %2")
                                                              .arg(history.join(QLatin1Char(' '))).arg(sum)));
            QVERIFY(smallest > 0);
        }

        // The model prefers what the FAQ says.
        if (order >= 2) {
            QVERIFY(arpa.prob({QStringLiteral("opening")}, QStringLiteral("hours"))
                    > 10 * arpa.prob({QStringLiteral("opening")}, QStringLiteral("parking")));
        }
    }

    void vocabularyComesFromTheFaq()
    {
        TenantLanguageModel::Settings settings;
        settings.includeCommonCallPhrases = false;
        const TenantLanguageModel model = TenantLanguageModel::forTenant(clinic(), *m_cmudict, settings);
        const QSet<QString> vocabulary(model.vocabulary().cbegin(), model.vocabulary().cend());
        for (const char *word : {"opening", "hours", "clinic", "parking", "cleaning", "cost", "address", "directions",
                                 "saturdays", "dr"}) {
            QVERIFY2(vocabulary.contains(QLatin1String(word)), word);
        }
        QVERIFY(!vocabulary.contains(QStringLiteral("goodbye")));
        QVERIFY(!vocabulary.contains(QStringLiteral("eighty"))); // answers are not what callers say

        const TenantLanguageModel withPhrases = TenantLanguageModel::forTenant(clinic(), *m_cmudict);
        QVERIFY(withPhrases.vocabulary().contains(QStringLiteral("goodbye")));
        QVERIFY(withPhrases.vocabulary().contains(QStringLiteral("hours")));
    }

    void outOfVocabularyWordsAreDropped()
    {
        const TenantLanguageModel model = TenantLanguageModel::forTenant(clinic(), *m_cmudict);
        QCOMPARE(model.droppedWords(), QStringList{QStringLiteral("zyxwvut")});
        QVERIFY(!model.vocabulary().contains(QStringLiteral("zyxwvut")));
        QVERIFY(!model.arpa().contains("zyxwvut"));
        // Dropping a word must not invent the pair around it.
        QVERIFY(!model.arpa().contains(" dr on"));
        QVERIFY(model.arpa().contains(" see dr"));
    }

    void dictionaryMatchesVocabulary()
    {
        const TenantLanguageModel model = TenantLanguageModel::forTenant(clinic(), *m_cmudict);
        QSet<QString> inDictionary;
        for (const QByteArray &line : model.dictionary().split('\n')) {
            if (line.isEmpty())
                continue;
            QString word = QString::fromUtf8(line.left(line.indexOf(' ')));
            word.remove(QRegularExpression(QStringLiteral(R"(\(\d+\)$)")));
            inDictionary.insert(word);
        }
        const QSet<QString> vocabulary(model.vocabulary().cbegin(), model.vocabulary().cend());
        QCOMPARE(inDictionary, vocabulary);
        // Alternates keep cmudict's numbering.
        QVERIFY(model.dictionary().contains("\na AH\n") || model.dictionary().startsWith("a AH\n"));
        QVERIFY(model.dictionary().contains("\na(2) EY\n"));
    }

    void handMadeDictionary()
    {
        const auto dictionary = PronunciationDictionary::fromText("hello HH AH L OW\nhello(2) HH EH L OW\nworld W ER L D\n");
        QCOMPARE(dictionary->size(), 2);
        QCOMPARE(dictionary->pronunciations(QStringLiteral("hello")),
                 (QStringList{QStringLiteral("HH AH L OW"), QStringLiteral("HH EH L OW")}));
        TenantLanguageModel::Settings settings;
        settings.includeCommonCallPhrases = false;
        const TenantLanguageModel model =
            TenantLanguageModel::build({QStringLiteral("Hello, world!"), QStringLiteral("Hello there")}, *dictionary, settings);
        QCOMPARE(model.vocabulary(), (QStringList{QStringLiteral("hello"), QStringLiteral("world")}));
        QCOMPARE(model.droppedWords(), QStringList{QStringLiteral("there")});
        QCOMPARE(model.dictionary(), QByteArray("hello HH AH L OW\nhello(2) HH EH L OW\nworld W ER L D\n"));
        const Arpa arpa = parseArpa(model.arpa());
        QVERIFY2(arpa.error.isEmpty(), qPrintable(arpa.error));
    }

    void nothingKnownGivesAnEmptyModel()
    {
        const auto dictionary = PronunciationDictionary::fromText("hello HH AH L OW\n");
        TenantLanguageModel::Settings settings;
        settings.includeCommonCallPhrases = false;
        const TenantLanguageModel model = TenantLanguageModel::build({QStringLiteral("xyzzy plugh")}, *dictionary, settings);
        QVERIFY(model.isEmpty());
        QString error;
        QVERIFY(!model.writeFiles(QStringLiteral("/nonexistent/a"), QStringLiteral("/nonexistent/b"), &error));
        QVERIFY(!error.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSttLm)
#include "test_stt_lm.moc"
