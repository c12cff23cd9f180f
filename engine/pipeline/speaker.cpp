#include "pipeline/speaker.h"

#include "observability/clock.h"
#include "telephony/callleg.h"
#include "tts/speechsynthesizer.h"

#include <algorithm>
#include <utility>

namespace apex {

Speaker::Speaker(CallLeg *leg, SpeechSynthesizer *synthesizer, QObject *parent)
    : QObject(parent)
    , m_leg(leg)
    , m_synthesizer(synthesizer)
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &Speaker::pump);
    connect(m_leg, &CallLeg::markPlayed, this, &Speaker::onMarkPlayed);
}

Speaker::~Speaker()
{
    for (auto &s : m_queue)
        if (s.job)
            s.job->cancel();
}

void Speaker::setVoice(const QString &tenantId, const QString &voice, const QString &language, const QString &callId)
{
    m_tenantId = tenantId;
    m_callId = callId;
    m_voice = voice;
    m_language = language;
}

namespace {
const QString kSentenceMarkPrefix = QStringLiteral("sentence-");
}

quint64 Speaker::say(const QString &sentence)
{
    Sentence s;
    s.id = m_nextSentenceId++;
    s.text = sentence;
    if (!m_replyOpen) {
        m_playout.clear();
        m_replyOpen = true;
        m_firstFrameOfReply = true;
        m_firstAudioOfReply = true;
        s.opensReply = true;
    }
    SynthesisJob *job = m_synthesizer->synthesize(SynthesisRequest{sentence, m_voice, m_language, m_tenantId, m_callId}, this);
    s.job = job;
    connect(job, &SynthesisJob::audio, this, [this, job](const QByteArray &mulaw) { onAudio(job, mulaw); });
    connect(job, &SynthesisJob::finished, this, [this, job] { onJobDone(job); });
    if (s.opensReply)
        connect(job, &SynthesisJob::requestSent, this, &Speaker::synthesisRequestSent);
    connect(job, &SynthesisJob::failed, this, [this, job](const QString &reason) {
        if (auto *s = sentenceOf(job))
            Q_EMIT synthesisFailed(s->text, reason);
        onJobDone(job);
    });
    m_queue.append(s);
    m_playout.insert(s.id, SentencePlayout{sentence});
    Q_EMIT synthesisStarted(sentence);
    return s.id;
}

QList<SentencePlayout> Speaker::playout(const QList<quint64> &sentenceIds) const
{
    QList<SentencePlayout> out;
    out.reserve(sentenceIds.size());
    for (quint64 id : sentenceIds)
        out.append(m_playout.value(id));
    return out;
}

void Speaker::onMarkPlayed(const QString &name)
{
    // Marks echoed because of a clear arrive after interrupt() forgot the
    // reply, so they cannot make an unheard sentence count as heard.
    if (!name.startsWith(kSentenceMarkPrefix))
        return;
    bool ok = false;
    const quint64 id = QStringView(name).sliced(kSentenceMarkPrefix.size()).toULongLong(&ok);
    auto it = m_playout.find(id);
    if (ok && it != m_playout.end())
        it->markEchoed = true;
}

void Speaker::endReply(const QString &markName)
{
    m_pendingMark = markName;
    m_replyOpen = false;
    pump();
}

void Speaker::interrupt()
{
    ++m_epoch;
    m_timer.stop();
    for (auto &s : m_queue) {
        if (s.job) {
            s.job->cancel();
            s.job->deleteLater();
        }
    }
    m_queue.clear();
    m_playout.clear();
    m_replyOpen = false;
    m_pendingMark.clear();
    m_nextDeadlineNs = 0;
    setSpeaking(false);
}

Speaker::Sentence *Speaker::sentenceOf(SynthesisJob *job)
{
    for (auto &s : m_queue)
        if (s.job == job)
            return &s;
    return nullptr;
}

void Speaker::onAudio(SynthesisJob *job, const QByteArray &mulaw)
{
    Sentence *s = sentenceOf(job);
    if (!s)
        return; // an interrupted epoch's audio
    s->audio.append(mulaw);
    if (auto it = m_playout.find(s->id); it != m_playout.end())
        it->bytesSynthesised += mulaw.size();
    if (s->opensReply && m_firstAudioOfReply && !mulaw.isEmpty()) {
        m_firstAudioOfReply = false;
        Q_EMIT firstAudio(monotonicNowNs());
    }
    if (s == &m_queue.first() && !m_timer.isActive())
        pump();
}

void Speaker::onJobDone(SynthesisJob *job)
{
    Sentence *s = sentenceOf(job);
    if (!s)
        return;
    s->complete = true;
    s->job = nullptr;
    if (auto it = m_playout.find(s->id); it != m_playout.end())
        it->synthesisComplete = true;
    job->deleteLater();
    if (!m_timer.isActive())
        pump();
}

void Speaker::pump()
{
    const std::uint64_t epoch = m_epoch;
    std::int64_t now = monotonicNowNs();
    // Send every frame whose deadline has come; the epoch is checked before each.
    while (epoch == m_epoch && !m_queue.isEmpty()) {
        Sentence &head = m_queue.first();
        const bool haveFrame = head.audio.size() >= kFrameBytes || (head.complete && !head.audio.isEmpty());
        if (!haveFrame) {
            if (head.complete) {
                if (m_playout.value(head.id).bytesSent > 0)
                    m_leg->sendMark(kSentenceMarkPrefix + QString::number(head.id));
                m_queue.removeFirst();
                continue;
            }
            // Starved: synthesis is behind. The next frame leaves when its bytes
            // arrive, and the pacing clock restarts there.
            m_nextDeadlineNs = 0;
            return;
        }
        if (m_nextDeadlineNs != 0 && now < m_nextDeadlineNs) {
            schedule();
            return;
        }
        if (m_nextDeadlineNs != 0 && now - m_nextDeadlineNs > kLateFrameNs)
            ++m_lateFrames;

        QByteArray frame = head.audio.left(kFrameBytes);
        head.audio.remove(0, frame.size());
        if (auto it = m_playout.find(head.id); it != m_playout.end())
            it->bytesSent += frame.size();
        if (frame.size() < kFrameBytes)
            frame.append(QByteArray(kFrameBytes - frame.size(), char(0xFF))); // mu-law silence
        setSpeaking(true);
        m_leg->sendAudio(frame);
        ++m_framesSent;
        if (m_firstFrameOfReply) {
            m_firstFrameOfReply = false;
            Q_EMIT firstFrameSent(now);
        }
        m_nextDeadlineNs = (m_nextDeadlineNs == 0 ? now : m_nextDeadlineNs) + kFrameNs;
        now = monotonicNowNs();
    }
    if (epoch != m_epoch)
        return;
    if (m_queue.isEmpty() && !m_replyOpen) {
        if (!m_pendingMark.isEmpty())
            m_leg->sendMark(std::exchange(m_pendingMark, QString()));
        // The last frame is still playing for 20 ms; report when it has.
        if (m_speaking) {
            const std::int64_t remaining = std::max<std::int64_t>(0, m_nextDeadlineNs - monotonicNowNs());
            QTimer::singleShot(int(remaining / 1'000'000), this, [this, epoch] {
                if (epoch != m_epoch || !m_queue.isEmpty() || m_replyOpen)
                    return;
                m_nextDeadlineNs = 0;
                setSpeaking(false);
                Q_EMIT replyPlayed();
            });
        } else {
            Q_EMIT replyPlayed();
        }
    }
}

void Speaker::schedule()
{
    const std::int64_t waitNs = m_nextDeadlineNs - monotonicNowNs();
    // Rounded up: waking a little late costs less than spinning on an early wake.
    m_timer.start(int((std::max<std::int64_t>(0, waitNs) + 999'999) / 1'000'000));
}

void Speaker::setSpeaking(bool speaking)
{
    if (m_speaking == speaking)
        return;
    m_speaking = speaking;
    Q_EMIT speakingChanged(speaking);
}

} // namespace apex
