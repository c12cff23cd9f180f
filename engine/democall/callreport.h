#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace apex {

// One caller utterance and the agent's answer to it.
struct TurnReport
{
    int index = 0;              // 1-based utterance number
    double latencyMs = -1;      // end of caller speech (last voiced frame sent) -> first agent frame after it; -1: none
    int agentFrames = 0;        // media messages of the reply
    double agentAudioMs = 0;    // their playout length
    bool bargedIn = false;      // the caller spoke over this reply (bargeInAfterMs)
    bool clearReceived = false; // ... and the engine sent `clear` afterwards
    double clearAfterMs = -1;   // caller's barge-in speech start -> `clear`
    // Stamps on the monotonic clock (std::chrono::steady_clock, CLOCK_MONOTONIC
    // on Linux), comparable with other processes' stamps on this machine; 0: none.
    qint64 endOfSpeechNs = 0;   // last voiced frame sent
    qint64 firstFrameNs = 0;    // first agent frame after it received
    // The number in an "APXTAG<10 digits>" prefix of that first frame (the
    // load-test fake TTS writes one to join its stamps with ours); -1: none.
    qint64 audioTag = -1;
    int lateFrames = 0;         // reply frames that came > 5 ms after the playout ran dry
    int veryLateFrames = 0;     // ... > 40 ms after
    double maxLateMs = 0;       // the longest such gap
    double maxLateAtMs = -1;    // where in the reply's audio it fell
};

// What a SimulatedCaller saw of one call.
struct CallReport
{
    QString callSid;
    QString streamSid;
    QString tenant;
    bool completed = false;        // the script ran to its end and `stop` was sent
    double greetingLatencyMs = -1; // `start` sent -> first agent frame
    double durationMs = 0;
    QList<TurnReport> turns;
    int framesSent = 0;
    int framesReceived = 0;  // media messages from the engine
    int malformedFrames = 0; // not JSON, unknown event, wrong streamSid, bad base64, payload not n*160 bytes, binary
    int clearsReceived = 0;
    int marksReceived = 0;
    int marksEchoed = 0;
    int lateTicks = 0;       // pacing ticks that ran more than one frame late (a starved event loop)
    double maxTickLateMs = 0; // the caller's own worst stall: a pacing tick this late
    qint64 maxTickLateNs = 0; // when (monotonic ns)
    // Agent frames, after the first of a greeting or reply, that arrived when
    // the caller's playout had already run dry for more than 5 ms (40 ms): a
    // gap the caller hears. Greeting and turns together.
    int lateFrames = 0;
    int veryLateFrames = 0;
    // The agent as the caller heard it: 8 kHz mu-law from the first frame sent,
    // gaps filled with silence, audio dropped by `clear` cut out.
    QByteArray agentAudio;
    QStringList errors;      // empty: the call passed
    QStringList notes;       // oddities that do not fail a call (first malformed frames, ...)

    bool ok() const { return errors.isEmpty(); }
};

} // namespace apex

Q_DECLARE_METATYPE(apex::CallReport)
