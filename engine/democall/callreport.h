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
    // The agent as the caller heard it: 8 kHz mu-law from the first frame sent,
    // gaps filled with silence, audio dropped by `clear` cut out.
    QByteArray agentAudio;
    QStringList errors;      // empty: the call passed
    QStringList notes;       // oddities that do not fail a call (first malformed frames, ...)

    bool ok() const { return errors.isEmpty(); }
};

} // namespace apex

Q_DECLARE_METATYPE(apex::CallReport)
