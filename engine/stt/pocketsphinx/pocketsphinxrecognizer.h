#pragma once

#include "audio/resampler.h"
#include "audio/vad.h"
#include "observability/logging.h"
#include "stt/pocketsphinx/pocketsphinxworker.h"
#include "stt/speechrecognizer.h"

#include <QVector>

#include <cstdint>
#include <memory>

class QThread;

namespace apex {

class PocketsphinxModelPool;

// Embedded, offline speech recognition for one call.
//
// Lives on the call's engine thread and never blocks it: pushMulaw() only
// decodes mu-law, runs the energy VAD and resamples to 16 kHz (microseconds per
// frame); pocketsphinx runs on a PocketsphinxWorker on one of the shared "stt-N"
// threads. speechStarted and endOfSpeech come from the VAD on this thread, at
// once; partial and final transcripts come back from the worker, queued.
// Each endOfSpeech is followed by exactly one finalTranscript, unless stop().
class PocketsphinxRecognizer : public SpeechRecognizer
{
    Q_OBJECT
public:
    struct Settings
    {
        int endpointingMs = 250;      // VAD silence that ends the caller's turn
        int preRollMs = 300;          // audio before the VAD onset that is decoded too
        int maxUtteranceMs = 15000;   // longer speech is cut and finalised
        int partialIntervalMs = 300;  // at most one partial hypothesis per interval
        int maxBacklogMs = 5000;      // audio queued to a slow worker beyond this is dropped
        QString callId;               // for log lines
        QString tenantId;
    };

    static Settings settingsFor(const Tenant &tenant);

    // `workerThread` must outlive the recognizer (SttWorkerThreads does).
    PocketsphinxRecognizer(std::shared_ptr<PocketsphinxModelPool> pool, QThread *workerThread, Settings settings,
                           QObject *parent = nullptr);
    ~PocketsphinxRecognizer() override;

    void pushMulaw(QByteArrayView mulaw) override;
    void stop() override;

    bool inSpeech() const { return m_inUtterance; }

private:
    void processFrame(std::span<const std::int16_t> frame8k);
    void beginUtterance();
    void finishUtterance();
    void sendAudio(QVector<std::int16_t> pcm16k);
    void onPartial(quint64 utterance, const QString &text);
    void onFinal(quint64 utterance, const QString &text);
    void onFailed(const QString &reason);

    const Settings m_settings;
    log::CallLogger m_log;
    audio::VoiceActivityDetector m_vad;
    audio::Resampler m_resampler;
    PocketsphinxWorker *m_worker = nullptr; // lives on the worker thread; deleteLater only
    std::shared_ptr<PocketsphinxWorker::Shared> m_shared;
    QVector<std::int16_t> m_pending8k;       // a partial frame carried to the next push
    QVector<std::int16_t> m_preRoll16k;
    bool m_stopped = false;
    bool m_inUtterance = false;
    bool m_failed = false;
    bool m_droppingAudio = false;
    quint64 m_utterance = 0;
    qint64 m_utteranceSamples16k = 0;
    QString m_lastPartial;
};

} // namespace apex
