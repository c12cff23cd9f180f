#include "stt/pocketsphinx/pocketsphinxworker.h"

#include "stt/pocketsphinx/pocketsphinxdecoder.h"

namespace apex {

PocketsphinxWorker::PocketsphinxWorker(std::shared_ptr<PocketsphinxModelPool> pool, std::shared_ptr<Shared> shared,
                                       int partialIntervalMs, log::CallLogger logger)
    : m_pool(std::move(pool))
    , m_shared(std::move(shared))
    , m_log(std::move(logger))
    , m_partialIntervalMs(partialIntervalMs)
{
}

PocketsphinxWorker::~PocketsphinxWorker() = default;

void PocketsphinxWorker::acquire()
{
    if (m_decoder || m_failed || cancelled())
        return;
    QString error;
    m_decoder = m_pool->borrow(&error);
    if (!m_decoder) {
        m_failed = true;
        m_log.error("no pocketsphinx decoder: {}", error);
        Q_EMIT failed(error);
    }
}

void PocketsphinxWorker::startUtterance(quint64 utterance)
{
    acquire();
    m_utterance = utterance;
    m_lastPartial.clear();
    m_utteranceSamples = 0;
    m_decodeNs = 0;
    m_sincePartial.start();
    if (m_decoder && !cancelled())
        m_decoder->startUtterance();
}

void PocketsphinxWorker::process(quint64 utterance, const QVector<std::int16_t> &pcm16k)
{
    m_shared->backlogSamples.fetch_sub(int(pcm16k.size()), std::memory_order_relaxed);
    if (cancelled() || utterance != m_utterance || !m_decoder || !m_decoder->inUtterance())
        return;
    QElapsedTimer timer;
    timer.start();
    m_decoder->process(pcm16k);
    m_utteranceSamples += pcm16k.size();
    if (m_sincePartial.elapsed() >= m_partialIntervalMs) {
        m_sincePartial.restart();
        const QString text = m_decoder->hypothesis();
        if (!text.isEmpty() && text != m_lastPartial) {
            m_lastPartial = text;
            Q_EMIT partialText(utterance, text);
        }
    }
    m_decodeNs += timer.nsecsElapsed();
}

void PocketsphinxWorker::endUtterance(quint64 utterance)
{
    if (cancelled())
        return;
    QString text;
    if (utterance == m_utterance && m_decoder && m_decoder->inUtterance()) {
        QElapsedTimer timer;
        timer.start();
        text = m_decoder->endUtterance();
        m_decodeNs += timer.nsecsElapsed();
        const double audioSeconds = double(m_utteranceSamples) / PocketsphinxDecoder::kSampleRateHz;
        m_log.debug("utterance {}: {:.2f} s of audio decoded in {:.0f} ms (real-time factor {:.3f}): \"{}\"",
                    utterance, audioSeconds, m_decodeNs / 1e6,
                    audioSeconds > 0 ? m_decodeNs / 1e9 / audioSeconds : 0.0, text);
    }
    Q_EMIT finalText(utterance, text);
}

} // namespace apex
