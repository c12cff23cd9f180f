// The pure parts of turn-taking: where a reply was cut, and which words over
// the agent are an interruption.

#include "pipeline/backchannellexicon.h"
#include "pipeline/bargeinpolicy.h"
#include "pipeline/playoutposition.h"
#include "tenancy/tenant.h"

#include <QTest>

using namespace apex;

namespace {

SentencePlayout played(const QString &text, qint64 bytes, qint64 sent, bool complete = true, bool mark = false)
{
    return SentencePlayout{text, bytes, sent, complete, mark};
}

} // namespace

class TestBargeIn : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void wholeSentencesThenWordsOfTheOneInProgress()
    {
        const QString reply = QStringLiteral("We are open from nine to six.  On Sundays we open late.");
        // The first sentence sent whole; the second half played (by audio length).
        const PlayoutPosition position({played(QStringLiteral("We are open from nine to six."), 8000, 8000),
                                        played(QStringLiteral("On Sundays we open late."), 8000, 4000)});
        QCOMPARE(position.sentenceInProgress(), 1);
        QCOMPARE(position.fractionOfSentenceInProgress(), 0.5);
        // 24 characters, half is 12: "On Sundays" (10) ends inside it, "we" (13) does not.
        QCOMPARE(reply.left(position.heardChars(reply)), QStringLiteral("We are open from nine to six.  On Sundays"));
        QCOMPARE(reply.left(position.wholeSentenceChars(reply)), QStringLiteral("We are open from nine to six."));
    }

    void aWordCutInTheMiddleIsNotHeard()
    {
        QCOMPARE(PlayoutPosition::heardPrefix(QStringLiteral("Hello there"), 0.3), 0);
        QCOMPARE(PlayoutPosition::heardPrefix(QStringLiteral("Hello there"), 0.5), 5);
        QCOMPARE(PlayoutPosition::heardPrefix(QStringLiteral("Hello there"), 1.0), 11);
        QCOMPARE(PlayoutPosition::heardPrefix(QStringLiteral("Hello there"), 0.0), 0);
    }

    void nothingPlayedNothingHeard()
    {
        const QString reply = QStringLiteral("One. Two.");
        const PlayoutPosition position({played(QStringLiteral("One."), 1600, 0, false), played(QStringLiteral("Two."), 0, 0, false)});
        QCOMPARE(position.heardChars(reply), 0);
        QCOMPARE(position.sentenceInProgress(), 0);
    }

    void anEchoedMarkMeansHeardWhole()
    {
        const QString reply = QStringLiteral("One two three. Four.");
        const PlayoutPosition position({played(QStringLiteral("One two three."), 8000, 7000, true, true),
                                        played(QStringLiteral("Four."), 800, 0)});
        QCOMPARE(position.sentenceInProgress(), 1);
        QCOMPARE(reply.left(position.heardChars(reply)), QStringLiteral("One two three."));
    }

    void aSentenceStillSynthesisingIsMeasuredByItsText()
    {
        // 1600 bytes arrived and were all sent, but the sentence is far from
        // done: its length is estimated from its 40 characters.
        const QString sentence = QStringLiteral("This sentence is still being synthesised");
        const PlayoutPosition position({played(sentence, 1600, 1600, false)});
        QCOMPARE(position.sentenceInProgress(), 0);
        QVERIFY(position.fractionOfSentenceInProgress() < 0.1);
        QCOMPARE(position.heardChars(sentence), 0);
    }

    void allPlayedAllHeard()
    {
        const QString reply = QStringLiteral("Yes. Behind the building.");
        const PlayoutPosition position({played(QStringLiteral("Yes."), 800, 800), played(QStringLiteral("Behind the building."), 800, 800)});
        QCOMPARE(position.sentenceInProgress(), 2);
        QCOMPARE(position.heardChars(reply), reply.size());
    }

    void lexiconReadsWordsNotSpellings_data()
    {
        QTest::addColumn<QString>("utterance");
        QTest::addColumn<int>("reading");
        using R = BackchannelLexicon::Reading;
        QTest::newRow("ok") << QStringLiteral("OK.") << int(R::Backchannel);
        QTest::newRow("okay okay") << QStringLiteral("okay, okay") << int(R::Backchannel);
        QTest::newRow("uh-huh") << QStringLiteral("Uh-huh") << int(R::Backchannel);
        QTest::newRow("mm-hmm") << QStringLiteral("mm hmm") << int(R::Backchannel);
        QTest::newRow("theek hai") << QStringLiteral("Theek hai") << int(R::Backchannel);
        QTest::newRow("theek alone") << QStringLiteral("theek") << int(R::Backchannel);
        QTest::newRow("hai alone") << QStringLiteral("hai") << int(R::Other);
        QTest::newRow("हाँ") << QStringLiteral("हाँ।") << int(R::Backchannel);
        QTest::newRow("हां") << QStringLiteral("हां") << int(R::Backchannel);
        QTest::newRow("अच्छा ठीक है") << QStringLiteral("अच्छा, ठीक है") << int(R::Backchannel);
        QTest::newRow("हम्म") << QStringLiteral("हम्म") << int(R::Backchannel);
        QTest::newRow("wait") << QStringLiteral("Wait!") << int(R::StopWord);
        QTest::newRow("ok stop") << QStringLiteral("ok stop") << int(R::StopWord);
        QTest::newRow("रुको") << QStringLiteral("रुको") << int(R::StopWord);
        QTest::newRow("नहीं") << QStringLiteral("नहीं।") << int(R::StopWord);
        QTest::newRow("sorry") << QStringLiteral("Sorry?") << int(R::StopWord);
        QTest::newRow("question") << QStringLiteral("do you have parking") << int(R::Other);
        QTest::newRow("no is a word, not a prefix") << QStringLiteral("nothing") << int(R::Other);
        QTest::newRow("empty") << QStringLiteral(" ... ") << int(R::Nothing);
    }

    void lexiconReadsWordsNotSpellings()
    {
        QFETCH(QString, utterance);
        QFETCH(int, reading);
        for (const QString &language : {QStringLiteral("en"), QStringLiteral("hi")}) {
            const BackchannelLexicon lexicon(BackchannelLexicon::defaultBackchannels(language),
                                             BackchannelLexicon::defaultStopWords(language));
            QCOMPARE(int(lexicon.read(utterance).reading), reading);
        }
    }

    void policyStopsOnWordsAndLength()
    {
        const BargeInPolicy policy; // English defaults: 3 words, 600 ms
        QCOMPARE(policy.onPartial(QStringLiteral("ok")).verdict, BargeInVerdict::Undecided);
        QCOMPARE(policy.onPartial(QString()).verdict, BargeInVerdict::Undecided);
        QCOMPARE(policy.onFinal(QStringLiteral("ok")).verdict, BargeInVerdict::Ignore);
        QCOMPARE(policy.onFinal(QString()).reason, BargeInReason::NothingRecognised);
        QCOMPARE(policy.onFinal(QString()).verdict, BargeInVerdict::Ignore);

        const BargeInDecision wait = policy.onPartial(QStringLiteral("okay wait"));
        QCOMPARE(wait.verdict, BargeInVerdict::Stop);
        QCOMPARE(wait.describe(), QStringLiteral("barge-in: stop word 'wait'"));
        QCOMPARE(policy.onFinal(QStringLiteral("OK")).describe(), QStringLiteral("ignored: backchannel 'ok'"));
        QCOMPARE(policy.onPartial(QStringLiteral("what time")).reason, BargeInReason::StopWord);
        QCOMPARE(policy.onPartial(QStringLiteral("tuesday")).reason, BargeInReason::NotABackchannel);
        QCOMPARE(policy.onPartial(QStringLiteral("yes yes ok right")).reason, BargeInReason::TooManyWords);

        QCOMPARE(policy.onSpeechLasted(400).verdict, BargeInVerdict::Undecided);
        QCOMPARE(policy.onSpeechLasted(601).verdict, BargeInVerdict::Stop);
        QCOMPARE(policy.onSpeechLasted(601).reason, BargeInReason::SpeechTooLong);
    }

    void tenantSettingsReplaceTheDefaults()
    {
        BargeInSettings settings;
        settings.backchannels = QStringList{QStringLiteral("jawohl")};
        settings.stopWords = QStringList{};
        settings.maxBackchannelWords = 1;
        settings.minSpeechMs = 300;
        const BargeInPolicy policy(settings, QStringLiteral("de"));
        QCOMPARE(policy.onFinal(QStringLiteral("jawohl")).verdict, BargeInVerdict::Ignore);
        QCOMPARE(policy.onFinal(QStringLiteral("ok")).reason, BargeInReason::NotABackchannel);
        QCOMPARE(policy.onFinal(QStringLiteral("wait")).reason, BargeInReason::NotABackchannel);
        QCOMPARE(policy.onFinal(QStringLiteral("jawohl jawohl")).reason, BargeInReason::TooManyWords);
        QCOMPARE(policy.onSpeechLasted(350).verdict, BargeInVerdict::Stop);
    }
};

QTEST_GUILESS_MAIN(TestBargeIn)
#include "test_bargein.moc"
