#include "stagefakes.h"

#include "pipeline/callsession.h"
#include "tenancy/tenantregistry.h"

#include <QSignalSpy>
#include <QTest>

using namespace apex;
using namespace apex::test;

class TestCallSession : public QObject
{
    Q_OBJECT

private:
    struct Rig
    {
        TenantRegistry tenants;
        FakeRecognizerFactory recognizers;
        FakeResponderFactory responders;
        FakeSynthesizer synthesizer;
        FakeSessionStore sessions;
        FakeLeg *leg = nullptr;
        std::unique_ptr<CallSession> session;

        Rig()
        {
            Tenant demo;
            demo.id = QStringLiteral("demo");
            demo.greeting = QStringLiteral("Hello. How can I help?");
            demo.systemPrompt = QStringLiteral("You are a receptionist.");
            demo.numbers = {QStringLiteral("+15550100200")};
            Tenant other;
            other.id = QStringLiteral("other");
            tenants.replace({demo, other}, QStringLiteral("demo"));
            auto legPtr = std::make_unique<FakeLeg>();
            leg = legPtr.get();
            session = std::make_unique<CallSession>(std::move(legPtr),
                                                    CallServices{&tenants, &recognizers, &responders, &synthesizer, &sessions});
        }

        void start(const QString &tenant = QStringLiteral("demo"), const QString &to = {})
        {
            CallStartInfo info;
            info.callId = QStringLiteral("CA00000000000000000000000000000001");
            info.streamId = QStringLiteral("MZ1");
            info.to = to;
            if (!tenant.isEmpty())
                info.parameters.insert(QStringLiteral("tenant"), tenant);
            Q_EMIT leg->started(info);
        }

        bool waitForState(CallState state, int timeoutMs = 5000)
        {
            QElapsedTimer t;
            t.start();
            while (session->state() != state && t.elapsed() < timeoutMs)
                QTest::qWait(5);
            return session->state() == state;
        }

        void callerSays(const QString &text)
        {
            Q_EMIT recognizers.last->speechStarted();
            Q_EMIT recognizers.last->endOfSpeech();
            Q_EMIT recognizers.last->finalTranscript(text);
        }
    };

private Q_SLOTS:
    void greetsFirstThenListens()
    {
        Rig rig;
        QSignalSpy states(rig.session.get(), &CallSession::stateChanged);
        rig.start();
        QCOMPARE(rig.session->tenantId(), QStringLiteral("demo"));
        QCOMPARE(rig.session->state(), CallState::Greeting);
        QCOMPARE(rig.synthesizer.sentences, QStringList({QStringLiteral("Hello."), QStringLiteral("How can I help?")}));
        QVERIFY(rig.waitForState(CallState::Listening));
        // Two sentences of 10 full frames plus a ragged 40-byte tail each, padded to a whole frame.
        QCOMPARE(rig.leg->framesSent, 22);
        QCOMPARE(rig.leg->lastFrameBytes, 160);
        QVERIFY(rig.leg->events.contains(QStringLiteral("mark:greeting")));
        QCOMPARE(rig.leg->events.indexOf(QStringLiteral("mark:greeting")), rig.leg->events.size() - 1);
    }

    void callerAudioReachesTheRecognizer()
    {
        Rig rig;
        rig.start();
        Q_EMIT rig.leg->audioReceived(QByteArray(160, char(0xFF)));
        Q_EMIT rig.leg->audioReceived(QByteArray(160, char(0xFF)));
        QCOMPARE(rig.recognizers.last->bytesPushed, 320);
    }

    void answersAnUtteranceAndTracesTheTurn()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        QSignalSpy lines(rig.session.get(), &CallSession::transcript);
        rig.callerSays(QStringLiteral("When are you open?"));
        QCOMPARE(rig.session->state(), CallState::Thinking);
        QVERIFY(turns.wait(5000));
        QCOMPARE(rig.session->state(), CallState::Listening);

        const auto trace = turns.first().first().value<TurnTrace>();
        QCOMPARE(trace.utterance, QStringLiteral("When are you open?"));
        QCOMPARE(trace.reply, QStringLiteral("We are open from nine to six. Anything else?"));
        // Latency counts from when the caller stopped, endpointing silence before the endpointer spoke.
        QCOMPARE(trace.at(TurnStage::Endpointed) - trace.at(TurnStage::EndOfSpeech), std::int64_t(250'000'000));
        for (auto stage : {TurnStage::EndOfSpeech, TurnStage::Endpointed, TurnStage::SttFinal, TurnStage::ResponderStart, TurnStage::FirstToken,
                           TurnStage::FirstSentence, TurnStage::TtsStart, TurnStage::TtsFirstAudio, TurnStage::FirstFrameOut})
            QVERIFY2(trace.has(stage), turnStageName(stage));
        QVERIFY(!trace.has(TurnStage::BargeIn));
        QVERIFY(trace.at(TurnStage::FirstFrameOut) >= trace.at(TurnStage::TtsStart));
        QVERIFY(trace.at(TurnStage::TtsStart) >= trace.at(TurnStage::SttFinal));

        // The splitter cut the streamed reply into sentences for TTS as they completed.
        QVERIFY(rig.synthesizer.sentences.contains(QStringLiteral("We are open from nine to six.")));
        QVERIFY(rig.synthesizer.sentences.contains(QStringLiteral("Anything else?")));

        // The responder saw the system prompt, the greeting as history, and the utterance.
        const auto request = rig.responders.last->requests.first();
        QCOMPARE(request.systemPrompt, QStringLiteral("You are a receptionist."));
        QCOMPARE(request.utterance, QStringLiteral("When are you open?"));
        QCOMPARE(request.history.size(), 1);
        QCOMPARE(request.history.first().role, ConversationTurn::Role::Agent);

        bool sawCallerFinal = false;
        for (const auto &args : lines) {
            const auto line = args.first().value<TranscriptLine>();
            sawCallerFinal = sawCallerFinal
                             || (line.speaker == TranscriptLine::Speaker::Caller && line.isFinal
                                 && line.text == QStringLiteral("When are you open?"));
        }
        QVERIFY(sawCallerFinal);
    }

    void keepsOnlyTheLastEightTurnsAsContext()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.synthesizer.framesPerSentence = 1;
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        for (int i = 1; i <= 10; ++i) {
            rig.callerSays(QStringLiteral("question %1").arg(i));
            QTRY_COMPARE_WITH_TIMEOUT(turns.size(), i, 5000);
            QVERIFY(rig.waitForState(CallState::Listening));
        }
        const auto last = rig.responders.last->requests.last();
        QCOMPARE(last.history.size(), 16); // 8 exchanges, caller + agent each
        QCOMPARE(last.history.first().role, ConversationTurn::Role::Caller);
        QCOMPARE(last.history.first().text, QStringLiteral("question 2"));
        QCOMPARE(last.history.last().role, ConversationTurn::Role::Agent);
    }

    void savesTheConversationAfterEveryTurn()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(turns.wait(5000));
        const SessionRecord &last = rig.sessions.saved.last();
        QCOMPARE(last.tenantId, QStringLiteral("demo"));
        QCOMPARE(last.kind, QStringLiteral("call"));
        QCOMPARE(last.id, QStringLiteral("CA00000000000000000000000000000001"));
        QCOMPARE(last.turns.size(), 3); // greeting, question, answer
        QCOMPARE(last.turns.at(1).role, QStringLiteral("caller"));
        QCOMPARE(last.turns.at(1).text, QStringLiteral("When are you open?"));
        QCOMPARE(last.turns.at(2).role, QStringLiteral("agent"));
        QVERIFY(last.createdAt.isValid() && last.updatedAt >= last.createdAt);
    }

    void bargeInStopsTheAgentAndClears()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.synthesizer.framesPerSentence = 200; // 4 s per sentence: long enough to talk over
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(rig.waitForState(CallState::Speaking));
        QTRY_VERIFY_WITH_TIMEOUT(rig.leg->framesSent > 30, 5000);
        const auto epochBefore = rig.session->epoch();

        Q_EMIT rig.recognizers.last->speechStarted();
        QCOMPARE(rig.session->epoch(), epochBefore + 1);
        QCOMPARE(rig.leg->clears, 1);
        QCOMPARE(rig.session->state(), CallState::Listening);
        QVERIFY(rig.responders.last->cancels >= 1);
        QCOMPARE(turns.size(), 1);
        QVERIFY(turns.first().first().value<TurnTrace>().has(TurnStage::BargeIn));

        // No frame of the interrupted reply leaves after the clear.
        const int framesAtClear = rig.leg->framesSent;
        QTest::qWait(200);
        QCOMPARE(rig.leg->framesSent, framesAtClear);
        QCOMPARE(rig.leg->events.last(), QStringLiteral("clear"));
    }

    void bargeInDuringTheGreeting()
    {
        Rig rig;
        rig.synthesizer.framesPerSentence = 200;
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(rig.leg->framesSent > 5, 5000);
        Q_EMIT rig.recognizers.last->speechStarted();
        QCOMPARE(rig.leg->clears, 1);
        QCOMPARE(rig.session->state(), CallState::Listening);
        const int frames = rig.leg->framesSent;
        QTest::qWait(100);
        QCOMPARE(rig.leg->framesSent, frames);
    }

    void emptyTranscriptKeepsListening()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.callerSays(QString());
        QCOMPARE(rig.session->state(), CallState::Listening);
        QVERIFY(rig.responders.last->requests.isEmpty());
    }

    void tenantFromTheCalledNumber()
    {
        Rig rig;
        rig.start(QString(), QStringLiteral("+1 555 0100 200"));
        QCOMPARE(rig.session->tenantId(), QStringLiteral("demo"));
    }

    void unknownTenantHangsUp()
    {
        Rig rig;
        QSignalSpy ended(rig.session.get(), &CallSession::ended);
        rig.start(QStringLiteral("nobody"));
        QCOMPARE(rig.leg->hangUps, 1);
        QCOMPARE(ended.size(), 1);
        QCOMPARE(rig.session->state(), CallState::Ended);
        QCOMPARE(rig.leg->framesSent, 0);
    }

    void hangUpStopsEverything()
    {
        Rig rig;
        rig.synthesizer.framesPerSentence = 200;
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(rig.leg->framesSent > 2, 5000);
        QSignalSpy ended(rig.session.get(), &CallSession::ended);
        Q_EMIT rig.leg->ended(CallEndReason::CallerHungUp, QString());
        QCOMPARE(ended.size(), 1);
        QVERIFY(rig.recognizers.last->stopped);
        const int frames = rig.leg->framesSent;
        QTest::qWait(100);
        QCOMPARE(rig.leg->framesSent, frames);
    }
};

QTEST_GUILESS_MAIN(TestCallSession)
#include "test_callsession.moc"
