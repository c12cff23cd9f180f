#pragma once

#include "audio/vad.h"
#include "llm/responder.h"
#include "observability/logging.h"
#include "observability/turntrace.h"
#include "pipeline/bargeinpolicy.h"
#include "pipeline/callservices.h"
#include "pipeline/preemptivecounts.h"
#include "pipeline/sentencesplitter.h"
#include "pipeline/transcriptline.h"
#include "telephony/callleg.h"
#include "tenancy/tenantregistry.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QTimer>

#include <memory>
#include <optional>

namespace apex {

class SpeechRecognizer;
class Speaker;


// One phone call from `start` to hang-up: the turn state machine
//   Connecting -> Greeting -> Listening -> Thinking -> Speaking -> Listening ... -> Ended
// with barge-in from Greeting/Thinking/Speaking back to Listening. Owns the leg
// and every per-call stage; lives on one engine thread for its whole life.
class CallSession : public QObject
{
    Q_OBJECT
public:
    CallSession(std::unique_ptr<CallLeg> leg, const CallServices &services, QObject *parent = nullptr);
    ~CallSession() override;

    QString callId() const { return m_info.callId; }
    // Who called which number, as the telephony leg reported it at start.
    const CallStartInfo &startInfo() const { return m_info; }
    QString callerNumber() const { return m_info.from; }
    // How the call ended, as a stable code for the history: caller_hung_up,
    // agent_hung_up, protocol_error, transport_closed; empty while live.
    QString endReason() const { return m_endReason; }
    QString tenantId() const { return m_tenant ? m_tenant->id : QString(); }
    TenantPtr tenant() const { return m_tenant; }
    CallState state() const { return m_state; }
    std::uint64_t epoch() const { return m_epoch; }
    const QList<TurnTrace> &traces() const { return m_traces; }

    // The engine must stop: whatever the agent was doing, it says the tenant's
    // goodbye line and hangs up once that has been played.
    void endWithGoodbye();
    const QList<ConversationTurn> &history() const { return m_history; }
    std::uint64_t framesSent() const;
    std::uint64_t lateFrames() const; // sent more than 5 ms after their deadline
    const BargeInCounts &bargeIns() const { return m_bargeIns; }
    const PreemptiveCounts &preemptiveReplies() const { return m_preemptiveCounts; }
    // The words a preemptive reply is matched on: case, punctuation and
    // spacing do not count.
    static QString preemptiveKey(const QString &text);

    // Conversation turns kept as context: the last N exchanges (caller + agent).
    static constexpr int kDefaultContextTurns = 8;
    // After a short utterance over the agent, how long its final transcript
    // may take before it counts as nothing recognised.
    static constexpr int kFinalTranscriptWaitMs = 2000;
    // The endpointer's own delay beyond its silence (transport, decoding).
    static constexpr int kEndpointerSlackMs = 200;
    // Silence after which the session's own VAD takes the caller as paused: a
    // preemptive reply waits for it as well as for stable words, so the gaps
    // between interims while the caller talks do not ask for one.
    static constexpr int kPreemptivePauseMs = 150;

Q_SIGNALS:
    void started(const QString &callId, const QString &tenantId);
    void stateChanged(apex::CallState state);
    void transcript(const apex::TranscriptLine &line);
    void turnCompleted(const apex::TurnTrace &trace);
    void ended(const QString &callId);

private:
    void onLegStarted(const CallStartInfo &info);
    void onLegEnded(CallEndReason reason, const QString &detail);
    void onSpeechStarted();
    void onPartialTranscript(const QString &text);
    void onJudgingDeadline();
    void onEndOfSpeech(qint64 silenceMs);
    void startTurn(qint64 silenceMs = -1);
    void onFinalTranscript(const QString &text);
    void onResponderText(const QString &text);
    void onResponderFinished();
    void onResponderFailed(const QString &reason);
    void onReplyPlayed();
    void onSilenceBudgetSpent();
    void armPreemptiveReply(const QString &partial);
    void onTranscriptStable();
    void cancelPreemptiveReply(const char *why);
    void adoptPreemptiveReply();

    void speak(const QString &sentence);
    void bargeIn();
    void keepWhatWasHeard();
    // Barge-in judging: the caller talks over the agent, who goes on until
    // their words (or the length of their speech) say it is an interruption.
    void startJudging();
    void decide(const BargeInDecision &decision);
    void stopForCaller(const BargeInDecision &decision);
    void resumeInterruptedSentence();
    void finishTurn();
    void setState(CallState state);
    void emitLine(TranscriptLine::Speaker speaker, const QString &text, bool isFinal);
    void appendHistory(ConversationTurn::Role role, const QString &text);
    void saveSession();
    void end();

    std::unique_ptr<CallLeg> m_leg;
    CallServices m_services;
    log::CallLogger m_log;
    CallStartInfo m_info;
    QString m_endReason;
    QDateTime m_startedAt;
    TenantPtr m_tenant;
    std::unique_ptr<SpeechRecognizer> m_recognizer;
    std::unique_ptr<Responder> m_responder;
    Speaker *m_speaker = nullptr;
    SentenceSplitter m_splitter;

    CallState m_state = CallState::Connecting;
    std::uint64_t m_epoch = 0;
    int m_turnIndex = 0;
    std::optional<TurnTrace> m_turn;   // the turn in progress
    QString m_reply;                   // what the agent has said in this turn (or the greeting)
    QList<quint64> m_replySentenceIds; // m_reply's sentences as the speaker knows them
    bool m_replyInHistory = false;     // m_reply went into the history before it was played (the greeting)
    QTimer m_silenceBudget;            // end of speech -> first reply audio, per turn
    bool m_holdLineSpoken = false;     // this turn's wait was covered by the hold line
    bool m_hangUpAfterReply = false;   // the goodbye is playing
    bool m_replyAwaitingPlayout = false; // the turn's reply goes into the history once played
    QList<ConversationTurn> m_history;

    // Whether the caller's voice over the agent is an interruption.
    enum class Interruption {
        None,
        Judging,      // the agent goes on; the caller's words will decide
        AgentStopped, // stopped before the words were known: a backchannel resumes the sentence
    };
    Interruption m_interruption = Interruption::None;
    BargeInPolicy m_bargeInPolicy;
    QTimer m_judgingDeadline;
    std::int64_t m_onsetNs = 0;
    std::optional<std::int64_t> m_judgedSpeechEndNs; // the caller stopped talking while being judged
    bool m_backchannelSoFar = false; // the partials so far are backchannel words
    bool m_judgingExtended = false;  // minSpeechMs passed; waiting for the endpointer to tell
    // What a resume says again: the sentence the cut fell in and those after
    // it, and the reply up to that sentence, heard already.
    QStringList m_resumeSentences;
    QString m_resumeHeardBefore;
    bool m_resumeCutInHistory = false; // the heard part went into the history at the cut
    BargeInCounts m_bargeIns;
    QList<TurnTrace> m_traces;

    // A reply asked for while the endpointer still waits for its silence. The
    // responder's output is kept here, unspoken, until the final transcript
    // adopts it (then replayed as if it had just arrived) or it is cancelled.
    struct PreemptiveReply
    {
        bool active = false;
        QString key;                     // preemptiveKey() of the words it answers
        QList<ConversationTurn> history; // the context it was asked with
        std::int64_t startedNs = -1;     // handed to the responder
        std::int64_t requestSentNs = -1; // its HTTP request left
        std::int64_t firstTokenNs = -1;
        QString text;                    // deltas so far
        bool finished = false;
        std::optional<QString> failure;
    };
    PreemptiveReply m_preemptive;
    QTimer m_transcriptStable;  // restarted by every partial
    QString m_stablePartial;    // the partial it was started for
    bool m_stableAwaitingPause = false; // the words are stable, the caller still audible
    audio::VoiceActivityDetector m_pauseVad;
    QVector<std::int16_t> m_pausePcm;
    PreemptiveCounts m_preemptiveCounts;
};

} // namespace apex
