#pragma once

#include "llm/responder.h"
#include "observability/logging.h"
#include "observability/turntrace.h"
#include "pipeline/callservices.h"
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

    // Conversation turns kept as context: the last N exchanges (caller + agent).
    static constexpr int kDefaultContextTurns = 8;

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
    void onEndOfSpeech(qint64 silenceMs);
    void startTurn(qint64 silenceMs = -1);
    void onFinalTranscript(const QString &text);
    void onResponderText(const QString &text);
    void onResponderFinished();
    void onResponderFailed(const QString &reason);
    void onReplyPlayed();
    void onSilenceBudgetSpent();

    void speak(const QString &sentence);
    void bargeIn();
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
    QString m_reply;                   // what the agent has said in this turn
    QTimer m_silenceBudget;            // end of speech -> first reply audio, per turn
    bool m_holdLineSpoken = false;     // this turn's wait was covered by the hold line
    bool m_hangUpAfterReply = false;   // the goodbye is playing
    bool m_replyAwaitingPlayout = false; // the turn's reply goes into the history once played
    QList<ConversationTurn> m_history;
    QList<TurnTrace> m_traces;
};

} // namespace apex
