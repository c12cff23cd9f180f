#include "stagefakes.h"

#include "pipeline/callsession.h"
#include "tenancy/tenantregistry.h"

#include <QSignalSpy>
#include <QTest>

#include <optional>

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

        bool markSent(const QString &prefix) const
        {
            for (const QString &event : std::as_const(leg->events))
                if (event.startsWith(QStringLiteral("mark:") + prefix))
                    return true;
            return false;
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

    void preemptiveReplyAdoptedWhenTheFinalSaysTheSame()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        const int framesBefore = rig.leg->framesSent;
        const qsizetype sentencesBefore = rig.synthesizer.sentences.size();
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        Q_EMIT rig.recognizers.last->speechStarted();
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("when are you open"));
        // The words stay the same past stableMs: the request leaves before the
        // endpointer speaks; its reply comes back and is held, unspoken.
        QTRY_COMPARE(rig.responders.last->requests.size(), 1);
        QCOMPARE(rig.responders.last->requests.first().utterance, QStringLiteral("when are you open"));
        QTest::qWait(50);
        QCOMPARE(rig.session->state(), CallState::Listening);
        QCOMPARE(rig.synthesizer.sentences.size(), sentencesBefore);
        QCOMPARE(rig.leg->framesSent, framesBefore);

        Q_EMIT rig.recognizers.last->endOfSpeech();
        Q_EMIT rig.recognizers.last->finalTranscript(QStringLiteral("When are you open?"));
        QVERIFY(turns.wait(5000));
        QCOMPARE(rig.responders.last->requests.size(), 1); // answered once
        QCOMPARE(rig.responders.last->cancels, 0);
        const auto trace = turns.first().first().value<TurnTrace>();
        QVERIFY(trace.preemptive);
        QVERIFY(trace.preemptiveSentNs > 0 && trace.preemptiveSentNs <= trace.at(TurnStage::Endpointed));
        QCOMPARE(trace.utterance, QStringLiteral("When are you open?"));
        QCOMPARE(trace.reply, QStringLiteral("We are open from nine to six. Anything else?"));
        QVERIFY(trace.has(TurnStage::FirstFrameOut));
        QVERIFY(rig.synthesizer.sentences.contains(QStringLiteral("We are open from nine to six.")));
        QCOMPARE(rig.session->preemptiveReplies().adopted, 1u);
        QCOMPARE(rig.session->preemptiveReplies().cancelled, 0u);
        // The context: greeting, the caller's final words, the reply.
        QCOMPARE(rig.session->history().size(), 3);
        QCOMPARE(rig.session->history().at(1).text, QStringLiteral("When are you open?"));
        QCOMPARE(rig.session->history().at(2).text, QStringLiteral("We are open from nine to six. Anything else?"));
    }

    void preemptiveReplyCancelledWhenTheCallerGoesOnOrTheFinalDiffers()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        const int framesBefore = rig.leg->framesSent;
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        FakeResponder *responder = rig.responders.last;
        Q_EMIT rig.recognizers.last->speechStarted();
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("when are you"));
        QTRY_COMPARE(responder->requests.size(), 1);
        QTest::qWait(20); // its reply has come back, held

        // The caller goes on: cancelled.
        responder->reply = QStringLiteral("We are closed on Sundays.");
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("when are you open on"));
        QCOMPARE(responder->cancels, 1);
        QCOMPARE(rig.session->preemptiveReplies().cancelled, 1u);
        QTRY_COMPARE(responder->requests.size(), 2);
        QCOMPARE(responder->requests.last().utterance, QStringLiteral("when are you open on"));
        QTest::qWait(20);

        // The final says more than the stable words: cancelled too, and the
        // turn asks with the final's words.
        responder->reply = QStringLiteral("On Sundays we rest.");
        Q_EMIT rig.recognizers.last->endOfSpeech();
        Q_EMIT rig.recognizers.last->finalTranscript(QStringLiteral("When are you open on Sundays?"));
        QCOMPARE(responder->cancels, 2);
        QCOMPARE(rig.session->preemptiveReplies().cancelled, 2u);
        QCOMPARE(rig.session->preemptiveReplies().adopted, 0u);
        QVERIFY(turns.wait(5000));
        QCOMPARE(responder->requests.size(), 3);
        QCOMPARE(responder->requests.last().utterance, QStringLiteral("When are you open on Sundays?"));
        QCOMPARE(responder->requests.last().history.size(), 1); // the greeting only

        // Only the adopted turn's reply reached TTS and the caller.
        const auto trace = turns.first().first().value<TurnTrace>();
        QVERIFY(!trace.preemptive);
        QCOMPARE(trace.reply, QStringLiteral("On Sundays we rest."));
        QVERIFY(!rig.synthesizer.sentences.contains(QStringLiteral("We are open from nine to six.")));
        QVERIFY(!rig.synthesizer.sentences.contains(QStringLiteral("We are closed on Sundays.")));
        QVERIFY(rig.synthesizer.sentences.contains(QStringLiteral("On Sundays we rest.")));
        QVERIFY(rig.leg->framesSent > framesBefore);
        QCOMPARE(rig.session->history().size(), 3);
        QCOMPARE(rig.session->history().at(2).text, QStringLiteral("On Sundays we rest."));
    }

    void preemptiveKeyIgnoresCasePunctuationAndSpacing()
    {
        QCOMPARE(CallSession::preemptiveKey(QStringLiteral("When are  you open?")), QStringLiteral("when are you open"));
        QCOMPARE(CallSession::preemptiveKey(QStringLiteral("क्या आप खुले हैं?")), QStringLiteral("क्या आप खुले हैं"));
        QVERIFY(CallSession::preemptiveKey(QStringLiteral("when are you open")) != CallSession::preemptiveKey(QStringLiteral("when are you")));
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

        // Words that are not a backchannel stop the agent the moment they are read.
        Q_EMIT rig.recognizers.last->speechStarted();
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("what about sundays"));
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
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("hello i want to book"));
        QCOMPARE(rig.leg->clears, 1);
        QCOMPARE(rig.session->state(), CallState::Listening);
        const int frames = rig.leg->framesSent;
        QTest::qWait(100);
        QCOMPARE(rig.leg->framesSent, frames);
    }

    // --- What the caller heard goes into the context --------------------------

    void historyHoldsOnlyWhatWasPlayed()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        const QString first = QStringLiteral("We are open from nine to six.");
        const QString second = QStringLiteral("On Sundays we open late and close early for the staff.");
        rig.synthesizer.framesFor.insert(first, 5);
        rig.synthesizer.framesFor.insert(second, 500); // 10 s: the caller cuts in well before its end
        rig.responders.last->reply = QStringLiteral("We are open| from nine to six. |On Sundays we open late and close early for the staff.");
        QSignalSpy lines(rig.session.get(), &CallSession::transcript);
        rig.callerSays(QStringLiteral("When are you open?"));

        // The first sentence played to its end and Twilio echoed its mark.
        QTRY_VERIFY_WITH_TIMEOUT(rig.markSent(QStringLiteral("sentence-")), 5000);
        for (const QString &event : std::as_const(rig.leg->events))
            if (event.startsWith(QStringLiteral("mark:sentence-")))
                Q_EMIT rig.leg->markPlayed(event.mid(5));
        const int framesAtMark = rig.leg->framesSent;
        QTRY_VERIFY_WITH_TIMEOUT(rig.leg->framesSent > framesAtMark + 10, 5000);

        Q_EMIT rig.recognizers.last->speechStarted();
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("wait"));
        QCOMPARE(rig.leg->clears, 1);

        // The transcript keeps the reply whole and says where the caller stopped hearing it.
        std::optional<TranscriptLine> cut;
        for (const auto &args : lines) {
            const auto line = args.first().value<TranscriptLine>();
            if (line.speaker == TranscriptLine::Speaker::Agent && line.wasCut())
                cut = line;
        }
        QVERIFY(cut);
        QVERIFY2(cut->heardText().startsWith(first), qPrintable(cut->heardText()));
        QVERIFY2(cut->unheardText().endsWith(QStringLiteral("for the staff.")), qPrintable(cut->unheardText()));
        QCOMPARE(cut->text, first + QLatin1Char(' ') + second);

        // The next request's context holds the played part only.
        Q_EMIT rig.recognizers.last->endOfSpeech();
        Q_EMIT rig.recognizers.last->finalTranscript(QStringLiteral("wait, what about Sundays?"));
        QTRY_COMPARE_WITH_TIMEOUT(rig.responders.last->requests.size(), 2, 5000);
        const ResponderRequest &next = rig.responders.last->requests.last();
        QCOMPARE(next.utterance, QStringLiteral("wait, what about Sundays?"));
        const ConversationTurn &agent = next.history.last();
        QCOMPARE(agent.role, ConversationTurn::Role::Agent);
        QVERIFY2(agent.text.startsWith(first), qPrintable(agent.text));
        QVERIFY2(!agent.text.contains(QStringLiteral("for the staff")), qPrintable(agent.text));
        QCOMPARE(agent.text, cut->heardText());
    }

    void aReplyCutBeforeItsFirstFrameIsNotContext()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.responders.firstDelayMs = 0;
        rig.responders.last->firstDelayMs = 300; // the caller goes on while the reply is prepared
        rig.callerSays(QStringLiteral("When are you open?"));
        QCOMPARE(rig.session->state(), CallState::Thinking);
        Q_EMIT rig.recognizers.last->speechStarted();
        QCOMPARE(rig.session->state(), CallState::Listening);
        Q_EMIT rig.recognizers.last->endOfSpeech();
        Q_EMIT rig.recognizers.last->finalTranscript(QStringLiteral("and on Sundays?"));
        QTRY_COMPARE_WITH_TIMEOUT(rig.responders.last->requests.size(), 2, 5000);
        const auto history = rig.responders.last->requests.last().history;
        QCOMPARE(history.last().role, ConversationTurn::Role::Caller);
        QCOMPARE(history.last().text, QStringLiteral("When are you open?"));
    }

    // --- Backchannels are not interruptions ------------------------------------

    void backchannelsDoNotStopTheAgent_data()
    {
        QTest::addColumn<QString>("partial");
        QTest::addColumn<QString>("final");
        QTest::newRow("ok") << QStringLiteral("ok") << QStringLiteral("Okay.");
        QTest::newRow("haan") << QStringLiteral("haan") << QStringLiteral("haan");
        QTest::newRow("theek hai") << QStringLiteral("theek") << QStringLiteral("theek hai");
        QTest::newRow("mm-hmm") << QStringLiteral("mm") << QStringLiteral("Mm-hmm.");
        QTest::newRow("uh-huh") << QString() << QStringLiteral("uh-huh");
        QTest::newRow("हाँ") << QStringLiteral("हाँ") << QStringLiteral("हाँ जी।");
        QTest::newRow("ठीक है") << QStringLiteral("ठीक") << QStringLiteral("ठीक है");
        QTest::newRow("acha right") << QStringLiteral("acha") << QStringLiteral("acha, right");
    }

    void backchannelsDoNotStopTheAgent()
    {
        QFETCH(QString, partial);
        QFETCH(QString, final);
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.synthesizer.framesPerSentence = 40;
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(rig.waitForState(CallState::Speaking));
        QTRY_VERIFY_WITH_TIMEOUT(rig.leg->framesSent > 25, 5000);

        Q_EMIT rig.recognizers.last->speechStarted();
        if (!partial.isEmpty())
            Q_EMIT rig.recognizers.last->partialTranscript(partial);
        Q_EMIT rig.recognizers.last->endOfSpeech();
        Q_EMIT rig.recognizers.last->finalTranscript(final);
        QCOMPARE(rig.session->state(), CallState::Speaking);

        // The reply plays on to its end: no clear, and the turn is not a barge-in.
        QVERIFY(turns.wait(5000));
        QCOMPARE(rig.leg->clears, 0);
        const auto trace = turns.first().first().value<TurnTrace>();
        QVERIFY(!trace.has(TurnStage::BargeIn));
        QCOMPARE(trace.bargeInDecisions.size(), 1);
        QVERIFY2(trace.bargeInDecisions.first().startsWith(QStringLiteral("ignored: backchannel '")),
                 qPrintable(trace.bargeInDecisions.first()));
        QCOMPARE(rig.session->bargeIns().decisions[size_t(BargeInReason::Backchannel)], 1u);
        // Not a turn of its own: one request, and the backchannel is not context.
        QCOMPARE(rig.responders.last->requests.size(), 1);
        QCOMPARE(rig.session->history().last().text, QStringLiteral("We are open from nine to six. Anything else?"));
    }

    void stopWordsStopTheAgentAtOnce_data()
    {
        QTest::addColumn<QString>("partial");
        QTest::addColumn<QString>("word");
        QTest::newRow("wait") << QStringLiteral("wait") << QStringLiteral("wait");
        QTest::newRow("ok wait") << QStringLiteral("okay wait") << QStringLiteral("wait");
        QTest::newRow("no") << QStringLiteral("No.") << QStringLiteral("no");
        QTest::newRow("रुको") << QStringLiteral("रुको") << QStringLiteral("रुको");
        QTest::newRow("नहीं") << QStringLiteral("नहीं") << QStringLiteral("नहीं");
    }

    void stopWordsStopTheAgentAtOnce()
    {
        QFETCH(QString, partial);
        QFETCH(QString, word);
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.synthesizer.framesPerSentence = 200;
        QSignalSpy turns(rig.session.get(), &CallSession::turnCompleted);
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(rig.waitForState(CallState::Speaking));
        QTRY_VERIFY_WITH_TIMEOUT(rig.leg->framesSent > 10, 5000);

        Q_EMIT rig.recognizers.last->speechStarted();
        QCOMPARE(rig.leg->clears, 0); // an onset alone waits for the words
        Q_EMIT rig.recognizers.last->partialTranscript(partial);
        QCOMPARE(rig.leg->clears, 1);
        QCOMPARE(rig.session->state(), CallState::Listening);
        QCOMPARE(turns.size(), 1);
        const auto trace = turns.first().first().value<TurnTrace>();
        QVERIFY(trace.has(TurnStage::BargeIn));
        QCOMPARE(trace.bargeInDecisions, QStringList{QStringLiteral("barge-in: stop word '%1'").arg(word)});
        QCOMPARE(rig.session->bargeIns().decisions[size_t(BargeInReason::StopWord)], 1u);
    }

    void moreWordsThanABackchannelStopTheAgent()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.synthesizer.framesPerSentence = 200;
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(rig.waitForState(CallState::Speaking));
        Q_EMIT rig.recognizers.last->speechStarted();
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("okay okay"));
        QCOMPARE(rig.leg->clears, 0);
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("okay okay yes right"));
        QCOMPARE(rig.leg->clears, 1);
        QCOMPARE(rig.session->bargeIns().decisions[size_t(BargeInReason::TooManyWords)], 1u);
    }

    void speechThatGoesOnStopsTheAgentBeforeAnyWord()
    {
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.synthesizer.framesPerSentence = 200;
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(rig.waitForState(CallState::Speaking));
        Q_EMIT rig.recognizers.last->speechStarted();
        QCOMPARE(rig.leg->clears, 0);
        QTRY_COMPARE_WITH_TIMEOUT(rig.leg->clears, 1, 5000);
        QCOMPARE(rig.session->state(), CallState::Listening);
        QCOMPARE(rig.session->bargeIns().decisions[size_t(BargeInReason::SpeechTooLong)], 1u);
        // It was a question after all: answered as one, nothing resumed.
        Q_EMIT rig.recognizers.last->endOfSpeech();
        Q_EMIT rig.recognizers.last->finalTranscript(QStringLiteral("do you have parking"));
        QTRY_COMPARE_WITH_TIMEOUT(rig.responders.last->requests.size(), 2, 5000);
        QCOMPARE(rig.session->bargeIns().resumed, 0u);
    }

    void aFalseInterruptionResumesTheSentence_data()
    {
        QTest::addColumn<QString>("final");
        QTest::newRow("backchannel") << QStringLiteral("hmm");
        QTest::newRow("nothing readable") << QString();
    }

    void aFalseInterruptionResumesTheSentence()
    {
        QFETCH(QString, final);
        Rig rig;
        rig.start();
        QVERIFY(rig.waitForState(CallState::Listening));
        const QString first = QStringLiteral("We are open from nine to six.");
        rig.synthesizer.framesFor.insert(first, 150);
        rig.synthesizer.framesFor.insert(QStringLiteral("Anything else?"), 20);
        QSignalSpy lines(rig.session.get(), &CallSession::transcript);
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(rig.waitForState(CallState::Speaking));
        QTRY_VERIFY_WITH_TIMEOUT(rig.leg->framesSent > 5, 5000);

        // Speech goes on past minSpeechMs with nothing read yet: the agent stops...
        Q_EMIT rig.recognizers.last->speechStarted();
        QTRY_COMPARE_WITH_TIMEOUT(rig.leg->clears, 1, 5000);
        QCOMPARE(rig.session->state(), CallState::Listening);
        QCOMPARE(rig.synthesizer.sentences.count(first), 1);

        // ... and it was only "hmm", or nothing the recognizer could read: the
        // sentence it was on is said again, from its start.
        Q_EMIT rig.recognizers.last->endOfSpeech();
        Q_EMIT rig.recognizers.last->finalTranscript(final);
        QCOMPARE(rig.session->state(), CallState::Speaking);
        QCOMPARE(rig.synthesizer.sentences.count(first), 2);
        QCOMPARE(rig.session->bargeIns().resumed, 1u);
        QCOMPARE(rig.responders.last->requests.size(), 1); // not a question

        QVERIFY(rig.waitForState(CallState::Listening, 10000));
        QCOMPARE(rig.synthesizer.sentences.count(QStringLiteral("Anything else?")), 2);
        QCOMPARE(rig.session->history().last().role, ConversationTurn::Role::Agent);
        QCOMPARE(rig.session->history().last().text, QStringLiteral("We are open from nine to six. Anything else?"));
        bool resumedLine = false;
        for (const auto &args : lines) {
            const auto line = args.first().value<TranscriptLine>();
            resumedLine = resumedLine || (line.speaker == TranscriptLine::Speaker::Agent && !line.wasCut()
                                          && line.text == QStringLiteral("We are open from nine to six. Anything else?"));
        }
        QVERIFY(resumedLine);
    }

    void tenantLexiconReplacesTheDefaults()
    {
        Rig rig;
        Tenant strict;
        strict.id = QStringLiteral("strict");
        strict.bargeIn.backchannels = QStringList{QStringLiteral("jawohl")};
        strict.bargeIn.stopWords = QStringList{QStringLiteral("halt")};
        rig.tenants.replace({strict}, QStringLiteral("strict"));
        rig.start(QStringLiteral("strict"));
        QVERIFY(rig.waitForState(CallState::Listening));
        rig.synthesizer.framesPerSentence = 200;
        rig.callerSays(QStringLiteral("When are you open?"));
        QVERIFY(rig.waitForState(CallState::Speaking));
        Q_EMIT rig.recognizers.last->speechStarted();
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("jawohl"));
        QCOMPARE(rig.leg->clears, 0);
        Q_EMIT rig.recognizers.last->partialTranscript(QStringLiteral("jawohl halt"));
        QCOMPARE(rig.leg->clears, 1);
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
