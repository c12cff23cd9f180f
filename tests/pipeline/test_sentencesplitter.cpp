#include "pipeline/sentencesplitter.h"

#include <QRandomGenerator>
#include <QTest>

using namespace apex;

namespace {

QStringList splitWhole(const QString &text, qsizetype softLimit = SentenceSplitter::defaultSoftLimitChars)
{
    SentenceSplitter splitter(softLimit);
    QStringList out = splitter.push(text);
    out += splitter.flush();
    return out;
}

QStringList splitCharByChar(const QString &text, qsizetype softLimit = SentenceSplitter::defaultSoftLimitChars)
{
    SentenceSplitter splitter(softLimit);
    QStringList out;
    for (QChar c : text)
        out += splitter.push(QString(c));
    out += splitter.flush();
    return out;
}

QStringList splitRandomChunks(const QString &text, quint32 seed, qsizetype softLimit = SentenceSplitter::defaultSoftLimitChars)
{
    QRandomGenerator rng(seed);
    SentenceSplitter splitter(softLimit);
    QStringList out;
    qsizetype pos = 0;
    while (pos < text.size()) {
        const qsizetype len = std::min<qsizetype>(text.size() - pos, rng.bounded(1, 9));
        out += splitter.push(text.mid(pos, len));
        pos += len;
    }
    out += splitter.flush();
    return out;
}

// LLM-style tokens: a word with its leading space, punctuation on its own.
QStringList tokens(const QString &text)
{
    QStringList out;
    QString current;
    for (QChar c : text) {
        if ((c.isSpace() || c.isPunct()) && !current.isEmpty()) {
            out.append(current);
            current.clear();
        }
        current.append(c);
        if (c.isPunct()) {
            out.append(current);
            current.clear();
        }
    }
    if (!current.isEmpty())
        out.append(current);
    return out;
}

} // namespace

class TestSentenceSplitter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rules_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("expected");
        auto row = [](const char *name, const char *text, QStringList expected) {
            QTest::newRow(name) << QString::fromUtf8(text) << expected;
        };
        row("simple", "Hello there. How are you? I am fine!",
            {"Hello there.", "How are you?", "I am fine!"});
        row("no terminator", "We are open until six", {"We are open until six"});
        row("empty", "", {});
        row("whitespace only", "   \n  ", {});
        row("newline", "First line\nSecond line", {"First line", "Second line"});
        row("blank lines", "One.\n\n\nTwo.", {"One.", "Two."});
        row("hindi danda", "नमस्ते। आप कैसे हैं?", {QString::fromUtf8("नमस्ते।"), QString::fromUtf8("आप कैसे हैं?")});
        row("double danda", "पहला॥ दूसरा।", {QString::fromUtf8("पहला॥"), QString::fromUtf8("दूसरा।")});
        row("danda without space", "नमस्ते।आप कैसे हैं", {QString::fromUtf8("नमस्ते।"), QString::fromUtf8("आप कैसे हैं")});
        row("mixed hindi english", "Hello. नमस्ते। OK?", {"Hello.", QString::fromUtf8("नमस्ते।"), "OK?"});
        row("titles", "Dr. Smith and Mrs. Jones will see you. Mr. Brown is away.",
            {"Dr. Smith and Mrs. Jones will see you.", "Mr. Brown is away."});
        row("ms and st", "Ms. Rao lives on St. Mark's Road. Come soon.",
            {"Ms. Rao lives on St. Mark's Road.", "Come soon."});
        row("e.g. and i.e.", "Bring a document, e.g. Aadhaar or i.e. Your ID. Thanks.",
            {"Bring a document, e.g. Aadhaar or i.e. Your ID.", "Thanks."});
        row("etc mid-sentence", "Fillings, crowns etc. are covered. Etc. Next.",
            {"Fillings, crowns etc. are covered.", "Etc.", "Next."});
        row("etc at end", "We do fillings, crowns etc. See you soon.",
            {"We do fillings, crowns etc.", "See you soon."});
        row("a.m. lower-case", "Open at 9 a.m. and close at 6 p.m. on weekdays.",
            {"Open at 9 a.m. and close at 6 p.m. on weekdays."});
        row("p.m. ends sentence", "We close at 6 p.m. See you then.",
            {"We close at 6 p.m.", "See you then."});
        row("No. before digit", "Go to room No. 5 please. No. That is wrong.",
            {"Go to room No. 5 please.", "No.", "That is wrong."});
        row("decimals", "It costs $4.99 or 3.5 dollars. Next one.",
            {"It costs $4.99 or 3.5 dollars.", "Next one."});
        row("ends with number", "The total is 1500. Anything else?",
            {"The total is 1500.", "Anything else?"});
        row("initials", "J. R. R. Tolkien wrote it. Read it.",
            {"J. R. R. Tolkien wrote it.", "Read it."});
        row("url", "Visit apex.example.com for details. Thanks.",
            {"Visit apex.example.com for details.", "Thanks."});
        row("email at end", "Write to info@apex.example.com. We reply fast.",
            {"Write to info@apex.example.com.", "We reply fast."});
        row("ellipsis lower", "Well... maybe tomorrow. Yes.", {"Well... maybe tomorrow.", "Yes."});
        row("ellipsis upper", "Wait... The doctor is here.", {"Wait...", "The doctor is here."});
        row("unicode ellipsis", "Hmm\u2026 let me check\u2026 Yes, we are open.",
            {"Hmm\u2026 let me check\u2026", "Yes, we are open."});
        row("closing quote", "He said \"Come at nine.\" Then he left.",
            {"He said \"Come at nine.\"", "Then he left."});
        row("closing bracket", "We are open (Monday to Saturday.) Call us!",
            {"We are open (Monday to Saturday.)", "Call us!"});
        row("curly quote after question", "Did she say \u201cyes?\u201d I think so.",
            {"Did she say \u201cyes?\u201d", "I think so."});
        row("terminator run", "Really?! Wow!!! OK.", {"Really?!", "Wow!!!", "OK."});
        row("bang inside word", "Try Yahoo!Mail today.", {"Try Yahoo!Mail today."});
        row("punctuation only dropped", "Done. ... !", {"Done."});
        row("leading spaces", "   Hi.   There.  ", {"Hi.", "There."});
    }
    void rules()
    {
        QFETCH(QString, text);
        QFETCH(QStringList, expected);
        QCOMPARE(splitWhole(text), expected);
        QCOMPARE(splitCharByChar(text), expected);
        for (quint32 seed = 1; seed <= 20; ++seed)
            QCOMPARE(splitRandomChunks(text, seed), expected);
    }

    void sentencesAreReleasedAsSoonAsDecidable()
    {
        SentenceSplitter s;
        QVERIFY(s.push(QStringLiteral("Hello")).isEmpty());
        // "." at the end is ambiguous: "Hello.5"? "Hello. world"? Held.
        QVERIFY(s.push(QStringLiteral(".")).isEmpty());
        QVERIFY(s.push(QStringLiteral(" ")).isEmpty());
        QCOMPARE(s.push(QStringLiteral(" How")), QStringList({"Hello."}));
        QVERIFY(s.push(QStringLiteral(" are you?")).isEmpty());
        QCOMPARE(s.push(QStringLiteral(" I")), QStringList({"How are you?"}));
        QCOMPARE(s.flush(), QStringList({"I"}));
        QVERIFY(!s.hasPending());
        QVERIFY(s.flush().isEmpty());

        // A danda needs only to know nothing closes after it.
        QCOMPARE(s.push(QStringLiteral("नमस्ते।आप")), QStringList({QString::fromUtf8("नमस्ते।")}));
        s.reset();
        QVERIFY(!s.hasPending());
    }

    void tokenStreamMatchesWhole()
    {
        const QString reply = QStringLiteral(
            "Hello! Dr. Mehta is available on Monday at 10 a.m. and the cleaning costs Rs. 1500.50 only. "
            "You can pay by card, cash etc. Is there anything else? We are at 42 Lake Rd. near the mall... "
            "Visit sunrise.example.com for details. नमस्ते। धन्यवाद!");
        const QStringList whole = splitWhole(reply);
        QCOMPARE(whole, QStringList({
            "Hello!",
            "Dr. Mehta is available on Monday at 10 a.m. and the cleaning costs Rs. 1500.50 only.",
            "You can pay by card, cash etc.",
            "Is there anything else?",
            "We are at 42 Lake Rd. near the mall...",
            "Visit sunrise.example.com for details.",
            QString::fromUtf8("नमस्ते।"),
            QString::fromUtf8("धन्यवाद!"),
        }));
        SentenceSplitter s;
        QStringList streamed;
        for (const QString &t : tokens(reply))
            streamed += s.push(t);
        streamed += s.flush();
        QCOMPARE(streamed, whole);
        QCOMPARE(splitCharByChar(reply), whole);
        for (quint32 seed = 100; seed < 150; ++seed)
            QCOMPARE(splitRandomChunks(reply, seed), whole);
    }

    void longSentenceIsCutAtClause()
    {
        QString text;
        for (int i = 0; i < 30; ++i)
            text += QStringLiteral("item number %1, ").arg(i);
        text += QStringLiteral("and that is all.");
        const qsizetype soft = 100;
        const QStringList parts = splitWhole(text, soft);
        QVERIFY(parts.size() > 2);
        for (int i = 0; i + 1 < parts.size(); ++i) {
            QVERIFY2(parts.at(i).endsWith(u','), qPrintable(parts.at(i)));
            QVERIFY(parts.at(i).size() >= soft);
            QVERIFY(parts.at(i).size() < soft + 20);
        }
        QCOMPARE(parts.join(u' '), text);
        QCOMPARE(splitCharByChar(text, soft), parts);
        for (quint32 seed = 1; seed <= 10; ++seed)
            QCOMPARE(splitRandomChunks(text, seed, soft), parts);

        // Short sentences with commas are never cut.
        QCOMPARE(splitWhole(QStringLiteral("Yes, we are open, come in."), soft), QStringList({"Yes, we are open, come in."}));
    }

    void runOnWithoutPunctuationIsCutAtSpace()
    {
        QString text;
        for (int i = 0; i < 100; ++i)
            text += QStringLiteral("word ");
        const qsizetype soft = 50;
        const QStringList parts = splitWhole(text, soft);
        QVERIFY(parts.size() >= 5);
        for (const QString &p : parts) {
            QVERIFY(p.size() <= 2 * soft);
            QVERIFY(!p.endsWith(QStringLiteral("wor")));
        }
        QCOMPARE(parts.join(u' '), text.trimmed());
        QCOMPARE(splitCharByChar(text, soft), parts);
    }

    void defaultLimit()
    {
        const SentenceSplitter s;
        QCOMPARE(s.softLimitChars(), SentenceSplitter::defaultSoftLimitChars);
        QCOMPARE(s.hardLimitChars(), 2 * SentenceSplitter::defaultSoftLimitChars);
    }
};

QTEST_GUILESS_MAIN(TestSentenceSplitter)
#include "test_sentencesplitter.moc"
