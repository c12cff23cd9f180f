#include "tst_simulatedcaller.h"

#include "observability/logging.h"
#include "telephony/twiliomessages.h"

#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

using namespace apex;

namespace {

// A loud mu-law square wave: codes near 0x00/0x80 are the largest magnitudes.
QByteArray tone(int frames)
{
    QByteArray bytes(frames * 160, '\0');
    for (int i = 0; i < bytes.size(); ++i)
        bytes[i] = ((i / 10) % 2) ? char(0x1F) : char(0x9F);
    return bytes;
}

QByteArray silence(int frames)
{
    return QByteArray(frames * 160, char(0xFF));
}

} // namespace

EchoAgent::EchoAgent(ApexServer &server, Options o)
    : options(o)
{
    clock.start();
    connect(&server, &ApexServer::newCall, this, &EchoAgent::onNewCall);
}

bool EchoAgent::playing() const
{
    return !marks.empty() && marks.back().playedMs < 0;
}

void EchoAgent::speak(TwilioMediaLeg *leg, int frames, const QString &mark)
{
    const QByteArray audio = tone(frames);
    for (int i = 0; i < frames; ++i)
        leg->sendAudio(QByteArrayView(audio).sliced(i * 160, 160));
    leg->sendMark(mark);
    marks.push_back({mark, clock.elapsed(), -1, frames * 20});
}

void EchoAgent::onNewCall(TwilioMediaLeg *leg)
{
    m_legs.emplace_back(leg);
    connect(leg, &CallLeg::started, this, [this, leg](const CallStartInfo &) {
        if (options.greet)
            speak(leg, options.greetingFrames, QStringLiteral("greeting"));
    });
    connect(leg, &CallLeg::markPlayed, this, [this](const QString &name) {
        for (MarkTiming &mark : marks) {
            if (mark.name == name && mark.playedMs < 0) {
                mark.playedMs = clock.elapsed();
                return;
            }
        }
        QFAIL(qPrintable(QStringLiteral("unexpected mark echo %1").arg(name)));
    });
    connect(leg, &CallLeg::ended, this, [this](CallEndReason reason, const QString &) {
        ++endedCount;
        lastEndReason = reason;
    });
    connect(leg, &CallLeg::audioReceived, this, [this, leg](const QByteArray &frame) {
        ++callerFrames;
        if (SimulatedCaller::isVoiced(frame)) {
            if (!m_callerTalking && playing() && options.clearOnBargeIn) {
                leg->clearAudio();
                ++clears;
            }
            m_callerTalking = true;
            m_silentRun = 0;
            return;
        }
        if (m_callerTalking && ++m_silentRun >= 10) {
            m_callerTalking = false;
            if (options.reply)
                speak(leg, options.replyFrames, QStringLiteral("reply-%1").arg(++m_replies));
        }
    });
}

void TestSimulatedCaller::initTestCase()
{
    qRegisterMetaType<CallReport>();
    qRegisterMetaType<CallStartInfo>();
    qRegisterMetaType<CallEndReason>();
}

void TestSimulatedCaller::init()
{
    m_server = std::make_unique<ApexServer>();
    QVERIFY(m_server->listen(QHostAddress::LocalHost, 0));
}

void TestSimulatedCaller::cleanup()
{
    m_agent.reset();
    m_server.reset();
}

SimulatedCallerOptions TestSimulatedCaller::baseOptions() const
{
    SimulatedCallerOptions options;
    options.port = m_server->serverPort();
    options.tenant = QStringLiteral("acme");
    options.agentQuietMs = 300;
    options.answerTimeoutMs = 3000;
    options.trailingSilenceMs = 100;
    // 400 ms of speech then 200 ms of trailing silence: end of speech is the last voiced frame.
    options.utterances = {tone(20) + silence(10), tone(20) + silence(10)};
    return options;
}

CallReport TestSimulatedCaller::runCall(SimulatedCallerOptions options, int timeoutMs)
{
    SimulatedCaller caller(std::move(options));
    QSignalSpy finished(&caller, &SimulatedCaller::finished);
    caller.start();
    if (!finished.wait(timeoutMs)) {
        CallReport timedOut;
        timedOut.errors.append(QStringLiteral("test: call did not finish"));
        return timedOut;
    }
    [&] { QCOMPARE(finished.size(), 1); }();
    return finished.at(0).at(0).value<CallReport>();
}

void TestSimulatedCaller::isVoiced()
{
    QVERIFY(SimulatedCaller::isVoiced(tone(1)));
    QVERIFY(!SimulatedCaller::isVoiced(silence(1)));
    QVERIFY(!SimulatedCaller::isVoiced(QByteArray(160, char(0x7F))));
    QVERIFY(!SimulatedCaller::isVoiced(QByteArray(160, char(0xFA)))); // faint noise floor, about -46 dBFS
}

void TestSimulatedCaller::conversationEchoesMarksAndMeasuresLatency()
{
    m_agent = std::make_unique<EchoAgent>(*m_server, EchoAgent::Options{});
    const CallReport report = runCall(baseOptions());
    QVERIFY2(report.ok(), qPrintable(report.errors.join("; ")));
    QVERIFY(report.completed);
    QVERIFY(report.callSid.startsWith("CA") && report.callSid.size() == 34);
    QVERIFY(report.streamSid.startsWith("MZ") && report.streamSid.size() == 34);
    QCOMPARE(report.turns.size(), 2);
    QVERIFY(report.greetingLatencyMs >= 0 && report.greetingLatencyMs < 200);
    for (const TurnReport &turn : report.turns) {
        // The agent waits for 200 ms of silence after the last voiced frame.
        QVERIFY2(turn.latencyMs >= 180 && turn.latencyMs < 600, qPrintable(QString::number(turn.latencyMs)));
        QCOMPARE(turn.agentFrames, 20);
        QCOMPARE(turn.agentAudioMs, 400.0);
        QVERIFY(!turn.bargedIn);
    }
    QCOMPARE(report.framesReceived, 15 + 20 + 20);
    QCOMPARE(report.malformedFrames, 0);
    QCOMPARE(report.clearsReceived, 0);
    QCOMPARE(report.marksReceived, 3);
    QCOMPARE(report.marksEchoed, 3);

    // Pacing: one frame per 20 ms of call, no drift.
    const double expectedFrames = report.durationMs / 20.0;
    QVERIFY2(std::abs(report.framesSent - expectedFrames) <= 3,
             qPrintable(QStringLiteral("%1 frames in %2 ms").arg(report.framesSent).arg(report.durationMs)));

    // Marks come back when their audio would have finished playing, not on arrival.
    QCOMPARE(m_agent->marks.size(), size_t(3));
    for (const auto &mark : m_agent->marks) {
        QVERIFY2(mark.playedMs >= 0, qPrintable(mark.name));
        const qint64 after = mark.playedMs - mark.sentMs;
        QVERIFY2(after >= mark.audioMs - 25 && after < mark.audioMs + 150,
                 qPrintable(QStringLiteral("%1 echoed after %2 ms").arg(mark.name).arg(after)));
    }

    // The recording holds the agent's audio, in time, with silence between.
    QVERIFY(report.agentAudio.size() >= 55 * 160);
    QCOMPARE(report.agentAudio.count(char(0x1F)) + report.agentAudio.count(char(0x9F)), qsizetype(55 * 160));
    QVERIFY(report.agentAudio.count(char(0xFF)) > 0);

    QTRY_COMPARE(m_agent->endedCount, 1);
    QCOMPARE(m_agent->lastEndReason, CallEndReason::CallerHungUp);
}

void TestSimulatedCaller::bargeInGetsClearAndEchoesPendingMarks()
{
    EchoAgent::Options agentOptions;
    agentOptions.replyFrames = 150; // 3 s, sent at once like a fast TTS
    m_agent = std::make_unique<EchoAgent>(*m_server, agentOptions);
    SimulatedCallerOptions options = baseOptions();
    options.bargeInAfterMs = 500;
    options.maxReplyMs = 10'000;
    const CallReport report = runCall(options);
    QVERIFY2(report.ok(), qPrintable(report.errors.join("; ")));
    QCOMPARE(report.turns.size(), 2);
    const TurnReport &interrupted = report.turns.at(0);
    QVERIFY(interrupted.bargedIn);
    QVERIFY(interrupted.clearReceived);
    QVERIFY2(interrupted.clearAfterMs >= 0 && interrupted.clearAfterMs < 200, qPrintable(QString::number(interrupted.clearAfterMs)));
    QVERIFY(!report.turns.at(1).bargedIn); // the last reply is never interrupted
    QCOMPARE(report.clearsReceived, 1);
    QCOMPARE(m_agent->clears, 1);

    // reply-1 was echoed by the clear, long before its 3 s would have played.
    QCOMPARE(m_agent->marks.size(), size_t(3));
    const auto &reply1 = m_agent->marks.at(1);
    QCOMPARE(reply1.name, QStringLiteral("reply-1"));
    QVERIFY(reply1.playedMs >= 0);
    QVERIFY2(reply1.playedMs - reply1.sentMs < 1500, qPrintable(QString::number(reply1.playedMs - reply1.sentMs)));
    QVERIFY(m_agent->marks.at(2).playedMs >= 0);

    // What was cleared was never heard: the recording lacks most of reply 1.
    const qsizetype heard = report.agentAudio.count(char(0x1F)) + report.agentAudio.count(char(0x9F));
    QVERIFY2(heard < (15 + 150 + 150) * 160 - 100 * 160, qPrintable(QString::number(heard)));
}

void TestSimulatedCaller::agentThatNeverGreetsFailsTheCall()
{
    EchoAgent::Options agentOptions;
    agentOptions.greet = false;
    m_agent = std::make_unique<EchoAgent>(*m_server, agentOptions);
    SimulatedCallerOptions options = baseOptions();
    options.answerTimeoutMs = 400;
    QElapsedTimer timer;
    timer.start();
    const CallReport report = runCall(options, 5000);
    QVERIFY(!report.ok());
    QVERIFY2(report.errors.first().contains(QStringLiteral("no greeting")), qPrintable(report.errors.join("; ")));
    QVERIFY(!report.completed);
    QVERIFY(timer.elapsed() < 2000);
    QTRY_COMPARE(m_agent->endedCount, 1); // the caller still hangs up cleanly
}

void TestSimulatedCaller::agentThatNeverRepliesFailsTheCall()
{
    EchoAgent::Options agentOptions;
    agentOptions.greet = false;
    agentOptions.reply = false;
    m_agent = std::make_unique<EchoAgent>(*m_server, agentOptions);
    SimulatedCallerOptions options = baseOptions();
    options.greeting = GreetingPolicy::SpeakFirst;
    options.initialSilenceMs = 100;
    options.answerTimeoutMs = 400;
    const CallReport report = runCall(options, 5000);
    QVERIFY(!report.ok());
    QVERIFY2(report.errors.first().contains(QStringLiteral("no reply to utterance 1")), qPrintable(report.errors.join("; ")));
    QCOMPARE(report.turns.size(), 1);
    QCOMPARE(report.turns.at(0).latencyMs, -1.0);
}

void TestSimulatedCaller::malformedEngineFramesAreCounted()
{
    // A raw engine, since a TwilioMediaLeg cannot be made to misbehave.
    QWebSocketServer raw(QStringLiteral("bad engine"), QWebSocketServer::NonSecureMode);
    QVERIFY(raw.listen(QHostAddress::LocalHost, 0));
    std::unique_ptr<QWebSocket> engine;
    connect(&raw, &QWebSocketServer::newConnection, this, [&] {
        engine.reset(raw.nextPendingConnection());
        connect(engine.get(), &QWebSocket::textMessageReceived, this, [&](const QString &text) {
            auto parsed = twilio::parseInbound(text.toUtf8());
            if (!parsed.ok() || !std::holds_alternative<twilio::StartEvent>(parsed.value()))
                return;
            const QString sid = std::get<twilio::StartEvent>(parsed.value()).streamSid;
            engine->sendTextMessage(QStringLiteral("not json"));
            engine->sendTextMessage(QString::fromUtf8(twilio::mediaJson(u"MZwrong", tone(1))));
            engine->sendTextMessage(QStringLiteral("{\"event\":\"media\",\"streamSid\":\"%1\",\"media\":{\"payload\":\"!!\"}}").arg(sid));
            engine->sendTextMessage(QString::fromUtf8(twilio::mediaJson(sid, tone(1).left(100))));
            engine->sendTextMessage(QStringLiteral("{\"event\":\"dance\",\"streamSid\":\"%1\"}").arg(sid));
            engine->sendBinaryMessage(tone(1));
            for (int i = 0; i < 5; ++i)
                engine->sendTextMessage(QString::fromUtf8(twilio::mediaJson(sid, tone(1))));
        });
    });
    SimulatedCallerOptions options = baseOptions();
    options.port = raw.serverPort();
    options.utterances.clear();
    const CallReport report = runCall(options, 5000);
    QVERIFY2(report.ok(), qPrintable(report.errors.join("; ")));
    QCOMPARE(report.malformedFrames, 6);
    QCOMPARE(report.framesReceived, 6); // the 100-byte frame still played
    QVERIFY(!report.notes.isEmpty());
}

void TestSimulatedCaller::connectFailureIsReported()
{
    SimulatedCallerOptions options = baseOptions();
    const quint16 port = m_server->serverPort();
    m_server.reset(); // nothing listens there now
    options.port = port;
    const CallReport report = runCall(options, 8000);
    QVERIFY(!report.ok());
    QVERIFY2(report.errors.first().contains(QStringLiteral("cannot connect")), qPrintable(report.errors.join("; ")));
}

QTEST_GUILESS_MAIN(TestSimulatedCaller)
