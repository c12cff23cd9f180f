#pragma once

#include "http/apexserver.h"
#include "democall/simulatedcaller.h"
#include "telephony/twiliomedialeg.h"

#include <QElapsedTimer>
#include <QObject>
#include <QWebSocketServer>

#include <memory>
#include <vector>

// A tiny agent on a real ApexServer: greets, answers each caller utterance
// after 200 ms of caller silence with a burst of tone frames plus a mark, and
// clears its audio when the caller talks over it.
class EchoAgent : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int greetingFrames = 15;
        int replyFrames = 20;
        bool greet = true;
        bool reply = true;
        bool clearOnBargeIn = true;
    };
    struct MarkTiming
    {
        QString name;
        qint64 sentMs;
        qint64 playedMs = -1;
        int audioMs;
    };

    EchoAgent(apex::ApexServer &server, Options options);

    Options options;
    QElapsedTimer clock;
    std::vector<MarkTiming> marks;
    int clears = 0;
    int callerFrames = 0;
    int endedCount = 0;
    apex::CallEndReason lastEndReason = apex::CallEndReason::TransportClosed;

private:
    void onNewCall(apex::TwilioMediaLeg *leg);
    void speak(apex::TwilioMediaLeg *leg, int frames, const QString &mark);
    bool playing() const;

    std::vector<std::unique_ptr<apex::TwilioMediaLeg>> m_legs;
    bool m_callerTalking = false;
    int m_silentRun = 0;
    int m_replies = 0;
};

class TestSimulatedCaller : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void isVoiced();
    void conversationEchoesMarksAndMeasuresLatency();
    void bargeInGetsClearAndEchoesPendingMarks();
    void agentThatNeverGreetsFailsTheCall();
    void agentThatNeverRepliesFailsTheCall();
    void malformedEngineFramesAreCounted();
    void connectFailureIsReported();

private:
    apex::CallReport runCall(apex::SimulatedCallerOptions options, int timeoutMs = 20'000);
    apex::SimulatedCallerOptions baseOptions() const;

    std::unique_ptr<apex::ApexServer> m_server;
    std::unique_ptr<EchoAgent> m_agent;
};
