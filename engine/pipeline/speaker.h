#pragma once

#include "pipeline/playoutposition.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <cstdint>

namespace apex {

class CallLeg;
class SpeechSynthesizer;
class SynthesisJob;
struct SynthesisRequest;

// Turns the agent's sentences into paced 20 ms frames on the call leg.
// Sentences are synthesised as soon as they are queued (several at once) and
// played strictly in order. The first frame of a reply leaves the moment its
// bytes exist; after that frames follow on absolute 20 ms deadlines, so a late
// timer never accumulates drift. interrupt() is the barge-in: it bumps the epoch,
// cancels synthesis and stops before the next frame.
//
// Each sentence's last frame is followed by a mark ("sentence-<id>"); the
// provider echoes it once the caller has heard it. Together with the bytes sent
// per sentence, that is the playout position a barge-in cuts the reply at.
class Speaker : public QObject
{
    Q_OBJECT
public:
    static constexpr int kFrameBytes = 160;
    static constexpr std::int64_t kFrameNs = 20'000'000;
    // A frame sent this much after its deadline counts as late.
    static constexpr std::int64_t kLateFrameNs = 5'000'000;

    Speaker(CallLeg *leg, SpeechSynthesizer *synthesizer, QObject *parent = nullptr);
    ~Speaker() override;

    void setVoice(const QString &tenantId, const QString &voice, const QString &language, const QString &callId = {});

    // Queues one sentence of the current reply; returns its id for playout().
    quint64 say(const QString &sentence);
    // No more sentences for this reply: replyPlayed() follows the last frame.
    // A non-empty mark name is sent to the leg right after the reply's last frame.
    void endReply(const QString &markName = {});
    // Barge-in or hang-up: drop everything queued for the current epoch.
    void interrupt();

    // How far the given sentences of the current reply got. Ask before
    // interrupt(), which forgets them; unknown ids come back empty.
    QList<SentencePlayout> playout(const QList<quint64> &sentenceIds) const;

    bool isSpeaking() const { return m_speaking; }
    std::uint64_t epoch() const { return m_epoch; }
    std::uint64_t framesSent() const { return m_framesSent; }
    std::uint64_t lateFrames() const { return m_lateFrames; }

Q_SIGNALS:
    void synthesisStarted(const QString &sentence);
    void synthesisRequestSent(qint64 monotonicNs); // the reply's first sentence went to a cloud TTS
    void firstAudio(std::int64_t monotonicNs);     // once per reply: TTS gave the first sentence's first bytes
    void firstFrameSent(std::int64_t monotonicNs); // once per reply
    void speakingChanged(bool speaking);
    void replyPlayed();
    void synthesisFailed(const QString &sentence, const QString &reason);

private:
    struct Sentence
    {
        quint64 id = 0;
        QString text;
        QPointer<SynthesisJob> job;
        QByteArray audio; // mu-law not yet sent
        bool complete = false;
        bool opensReply = false; // the reply's first sentence: its audio is what the caller waits for
    };

    void onAudio(SynthesisJob *job, const QByteArray &mulaw);
    void onJobDone(SynthesisJob *job);
    void pump();
    void schedule();
    void setSpeaking(bool speaking);
    Sentence *sentenceOf(SynthesisJob *job);
    void onMarkPlayed(const QString &name);

    CallLeg *m_leg;
    SpeechSynthesizer *m_synthesizer;
    QString m_tenantId;
    QString m_callId;
    QString m_voice;
    QString m_language;
    QList<Sentence> m_queue;
    QHash<quint64, SentencePlayout> m_playout; // the current reply's sentences, by id
    quint64 m_nextSentenceId = 1;
    QTimer m_timer;
    std::uint64_t m_epoch = 0;
    std::int64_t m_nextDeadlineNs = 0; // 0: the next frame may leave at once
    bool m_replyOpen = false;
    QString m_pendingMark;
    bool m_firstFrameOfReply = true;
    bool m_firstAudioOfReply = true;
    bool m_speaking = false;
    std::uint64_t m_framesSent = 0;
    std::uint64_t m_lateFrames = 0;
};

} // namespace apex
