#include "tts/embedded/embeddedsynthesisjob.h"

#include "tts/embedded/synthesisrelay.h"

namespace apex {

EmbeddedSynthesisJob::EmbeddedSynthesisJob(std::shared_ptr<std::atomic_bool> cancelled, QObject *parent)
    : SynthesisJob(parent)
    , m_cancelled(std::move(cancelled))
{
}

void EmbeddedSynthesisJob::cancel()
{
    m_cancelledHere = true;
    m_cancelled->store(true, std::memory_order_relaxed);
}

void EmbeddedSynthesisJob::attach(SynthesisRelay *relay)
{
    connect(relay, &SynthesisRelay::audio, this, &EmbeddedSynthesisJob::deliverAudio, Qt::QueuedConnection);
    connect(relay, &SynthesisRelay::finished, this, &EmbeddedSynthesisJob::deliverFinished, Qt::QueuedConnection);
    connect(relay, &SynthesisRelay::failed, this, &EmbeddedSynthesisJob::deliverFailed, Qt::QueuedConnection);
}

void EmbeddedSynthesisJob::finishEmpty()
{
    QMetaObject::invokeMethod(this, &EmbeddedSynthesisJob::deliverFinished, Qt::QueuedConnection);
}

void EmbeddedSynthesisJob::deliverAudio(const QByteArray &mulaw8k)
{
    if (!m_cancelledHere && !m_done)
        Q_EMIT audio(mulaw8k);
}

void EmbeddedSynthesisJob::deliverFinished()
{
    if (m_cancelledHere || m_done)
        return;
    m_done = true;
    Q_EMIT finished();
}

void EmbeddedSynthesisJob::deliverFailed(const QString &reason)
{
    if (m_cancelledHere || m_done)
        return;
    m_done = true;
    Q_EMIT failed(reason);
}

} // namespace apex
