#include "stt/pocketsphinx/pocketsphinxrecognizer.h"

#include "audio/g711.h"
#include "stt/pocketsphinx/pocketsphinxdecoder.h"
#include "stt/pocketsphinx/pocketsphinxmodelpool.h"
#include "tenancy/tenant.h"

#include <QPointer>
#include <QThread>

namespace apex {

namespace {
constexpr int kFrameSamples8k = 160; // 20 ms
constexpr int kSamplesPerMs16k = PocketsphinxDecoder::kSampleRateHz / 1000;
} // namespace

PocketsphinxRecognizer::Settings PocketsphinxRecognizer::settingsFor(const Tenant &tenant)
{
    Settings settings;
    if (tenant.endpointingMs > 0)
        settings.endpointingMs = tenant.endpointingMs;
    settings.tenantId = tenant.id;
    return settings;
}

PocketsphinxRecognizer::PocketsphinxRecognizer(std::shared_ptr<PocketsphinxModelPool> pool, QThread *workerThread,
                                               Settings settings, QObject *parent)
    : SpeechRecognizer(parent)
    , m_settings(std::move(settings))
    , m_log("stt", m_settings.callId, m_settings.tenantId)
    , m_vad([this] {
        audio::VoiceActivityDetector::Settings vad;
        vad.endpointingMs = m_settings.endpointingMs;
        return vad;
    }())
    , m_resampler(8000, PocketsphinxDecoder::kSampleRateHz)
    , m_shared(std::make_shared<PocketsphinxWorker::Shared>())
{
    m_worker = new PocketsphinxWorker(std::move(pool), m_shared, m_settings.partialIntervalMs, m_log);
    m_worker->moveToThread(workerThread);
    connect(m_worker, &PocketsphinxWorker::partialText, this, &PocketsphinxRecognizer::onPartial, Qt::QueuedConnection);
    connect(m_worker, &PocketsphinxWorker::finalText, this, &PocketsphinxRecognizer::onFinal, Qt::QueuedConnection);
    connect(m_worker, &PocketsphinxWorker::failed, this, &PocketsphinxRecognizer::onFailed, Qt::QueuedConnection);
    // Borrow the decoder now, so the first utterance does not wait for one.
    QMetaObject::invokeMethod(m_worker, [worker = m_worker] { worker->acquire(); }, Qt::QueuedConnection);
}

PocketsphinxRecognizer::~PocketsphinxRecognizer()
{
    stop();
}

void PocketsphinxRecognizer::stop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    m_shared->cancelled.store(true, std::memory_order_relaxed);
    // The worker may be inside ps_process_raw right now; deleteLater lets it
    // finish, skip whatever is still queued, and return the decoder on its own
    // thread. Its queued signals die with this object's posted events.
    disconnect(m_worker, nullptr, this, nullptr);
    m_worker->deleteLater();
    m_worker = nullptr;
}

void PocketsphinxRecognizer::pushMulaw(QByteArrayView mulaw)
{
    if (m_stopped)
        return;
    audio::g711::decodeMulaw(mulaw, m_pending8k);
    qsizetype offset = 0;
    QPointer<PocketsphinxRecognizer> alive(this);
    while (m_pending8k.size() - offset >= kFrameSamples8k) {
        processFrame(std::span<const std::int16_t>(m_pending8k.constData() + offset, kFrameSamples8k));
        // A receiver of our signals may have stopped or deleted us.
        if (!alive || m_stopped)
            return;
        offset += kFrameSamples8k;
    }
    m_pending8k.remove(0, offset);
}

void PocketsphinxRecognizer::processFrame(std::span<const std::int16_t> frame8k)
{
    QVector<std::int16_t> pcm16k = m_resampler.process(frame8k);
    const auto event = m_vad.push(frame8k, 8000);

    if (!m_inUtterance) {
        m_preRoll16k += pcm16k;
        const qsizetype keep = qsizetype(m_settings.preRollMs) * kSamplesPerMs16k;
        if (m_preRoll16k.size() > keep)
            m_preRoll16k.remove(0, m_preRoll16k.size() - keep);
        if (event == audio::VoiceActivityDetector::Event::SpeechStarted) {
            beginUtterance();
            Q_EMIT speechStarted();
        }
        return;
    }

    m_utteranceSamples16k += pcm16k.size();
    sendAudio(std::move(pcm16k));
    if (event == audio::VoiceActivityDetector::Event::SpeechEnded) {
        finishUtterance();
        Q_EMIT endOfSpeech();
    } else if (m_utteranceSamples16k >= qint64(m_settings.maxUtteranceMs) * kSamplesPerMs16k) {
        m_log.info("utterance {} reached {} ms: finalised without endpointing", m_utterance, m_settings.maxUtteranceMs);
        finishUtterance();
        // Speech that goes on has to be detected afresh as a new utterance.
        m_vad.reset();
        Q_EMIT endOfSpeech();
    }
}

void PocketsphinxRecognizer::beginUtterance()
{
    ++m_utterance;
    m_inUtterance = true;
    m_lastPartial.clear();
    m_droppingAudio = false;
    m_utteranceSamples16k = m_preRoll16k.size();
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, id = m_utterance] { worker->startUtterance(id); },
                              Qt::QueuedConnection);
    sendAudio(std::exchange(m_preRoll16k, {}));
}

void PocketsphinxRecognizer::finishUtterance()
{
    m_inUtterance = false;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, id = m_utterance] { worker->endUtterance(id); },
                              Qt::QueuedConnection);
}

void PocketsphinxRecognizer::sendAudio(QVector<std::int16_t> pcm16k)
{
    if (pcm16k.isEmpty())
        return;
    // Bounded queue, dropping the newest audio: a worker that falls this far
    // behind is overloaded, and waiting longer would only make the reply later.
    const int backlog = m_shared->backlogSamples.load(std::memory_order_relaxed);
    if (backlog > m_settings.maxBacklogMs * kSamplesPerMs16k) {
        if (!m_droppingAudio)
            m_log.warn("stt worker {} ms behind: dropping audio of utterance {}", backlog / kSamplesPerMs16k, m_utterance);
        m_droppingAudio = true;
        return;
    }
    m_shared->backlogSamples.fetch_add(int(pcm16k.size()), std::memory_order_relaxed);
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker, id = m_utterance, pcm = std::move(pcm16k)] { worker->process(id, pcm); },
        Qt::QueuedConnection);
}

void PocketsphinxRecognizer::onPartial(quint64 utterance, const QString &text)
{
    if (m_stopped || !m_inUtterance || utterance != m_utterance || text == m_lastPartial)
        return;
    m_lastPartial = text;
    Q_EMIT partialTranscript(text);
}

void PocketsphinxRecognizer::onFinal(quint64 utterance, const QString &text)
{
    if (m_stopped)
        return;
    m_log.debug("final of utterance {}: \"{}\"", utterance, text);
    Q_EMIT finalTranscript(text);
}

void PocketsphinxRecognizer::onFailed(const QString &reason)
{
    if (m_stopped || m_failed)
        return;
    m_failed = true;
    Q_EMIT failed(reason);
}

} // namespace apex
