#include "stt/deepgram/deepgramsettings.h"
#include "stt/deepgram/deepgramturnassembler.h"
#include "tenancy/tenant.h"

#include <QTest>
#include <QUrlQuery>

using namespace apex;

namespace {
DeepgramTurnAssembler::Result result(const QString &text, bool isFinal, bool speechFinal, double end = -1.0)
{
    DeepgramTurnAssembler::Result r;
    r.transcript = text;
    r.isFinal = isFinal;
    r.speechFinal = speechFinal;
    r.lastWordEndSec = end;
    return r;
}
} // namespace

// The end-of-turn rules of protocols.md §3, without sockets.
class TestDeepgramTurns : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void interimStartsSpeechOnce()
    {
        DeepgramTurnAssembler turn;
        auto update = turn.onResults(result(QStringLiteral("hello"), false, false));
        QVERIFY(update.speechStarted);
        QCOMPARE(update.partial.value_or(QString()), QStringLiteral("hello"));
        update = turn.onResults(result(QStringLiteral("hello there"), false, false));
        QVERIFY(!update.speechStarted);
        QVERIFY(!update.finalText);
        // An unchanged preview is not emitted again (edge-triggered).
        QVERIFY(!turn.onResults(result(QStringLiteral("hello there"), false, false)).partial);
        // An empty interim is no evidence of speech.
        DeepgramTurnAssembler quiet;
        QVERIFY(!quiet.onResults(result(QString(), false, false)).speechStarted);
    }

    void speechStartedEventIsTheHint()
    {
        DeepgramTurnAssembler turn;
        QVERIFY(turn.onSpeechStarted().speechStarted);
        QVERIFY(!turn.onSpeechStarted().speechStarted);
        QVERIFY(!turn.onResults(result(QStringLiteral("hi"), false, false)).speechStarted);
    }

    void finalsAccumulateUntilSpeechFinal()
    {
        DeepgramTurnAssembler turn;
        QVERIFY(!turn.onResults(result(QStringLiteral("What are"), true, false, 1.0)).finalText);
        const auto partial = turn.onResults(result(QStringLiteral("your"), false, false));
        QCOMPARE(partial.partial.value_or(QString()), QStringLiteral("What are your"));
        const auto end = turn.onResults(result(QStringLiteral("your opening hours?"), true, true, 2.0));
        QCOMPARE(end.finalText.value_or(QString()), QStringLiteral("What are your opening hours?"));
        QVERIFY(!turn.hasPendingText());
        QVERIFY(!turn.inSpeech());
        // The UtteranceEnd that follows a speech_final finds nothing to flush.
        QVERIFY(!turn.onUtteranceEnd(2.0).finalText);
    }

    void utteranceEndIsTheFallback()
    {
        DeepgramTurnAssembler turn;
        turn.onResults(result(QStringLiteral("Do you have parking?"), true, false, 3.2));
        const auto end = turn.onUtteranceEnd(3.2);
        QCOMPARE(end.finalText.value_or(QString()), QStringLiteral("Do you have parking?"));
        QVERIFY(!turn.onUtteranceEnd(3.2).finalText);
    }

    void staleUtteranceEndIsIgnored()
    {
        // jambonz#1088: an UtteranceEnd for the previous words arrives after new words.
        DeepgramTurnAssembler turn;
        turn.onResults(result(QStringLiteral("Hello."), true, false, 1.5));
        turn.onResults(result(QStringLiteral("I need a table"), true, false, 4.0));
        QVERIFY(!turn.onUtteranceEnd(1.5).finalText);
        QCOMPARE(turn.onUtteranceEnd(4.0).finalText.value_or(QString()), QStringLiteral("Hello. I need a table"));
    }

    void emptySpeechFinalClosesOnlyAHintedTurn()
    {
        DeepgramTurnAssembler turn;
        QVERIFY(!turn.onResults(result(QString(), true, true)).finalText);
        turn.onSpeechStarted();
        QCOMPARE(turn.onResults(result(QString(), true, true)).finalText.value_or(QStringLiteral("x")), QString());
        QVERIFY(turn.onSpeechStarted().speechStarted);
    }

    void queryForTenant()
    {
        Tenant tenant;
        tenant.id = QStringLiteral("delhi");
        tenant.language = QStringLiteral("hi");
        tenant.endpointingMs = 300;
        DeepgramSettings settings;
        settings.apiKey = QStringLiteral("secret-key");
        const QUrl url = deepgramListenUrl(settings, DeepgramCallSettings::forTenant(tenant, QStringLiteral("CA1")));
        QCOMPARE(url.toString(QUrl::RemoveQuery), QStringLiteral("wss://api.deepgram.com/v1/listen"));
        const QUrlQuery query(url);
        QCOMPARE(query.queryItemValue(QStringLiteral("language")), QStringLiteral("hi"));
        QCOMPARE(query.queryItemValue(QStringLiteral("endpointing")), QStringLiteral("300"));
        QVERIFY(!url.toString().contains(QStringLiteral("secret")));
    }
};

QTEST_GUILESS_MAIN(TestDeepgramTurns)
#include "test_deepgram_turns.moc"
