#pragma once

#include "tts/embedded/synthesistask.h"

#include <QObject>

#include <memory>

namespace apex {

// Owns espeak-ng on the "tts-espeak" thread. espeak-ng keeps one global
// synthesiser per process, so this is the only place that may call it; it is
// initialised on first use and kept for the life of the process.
class EspeakWorker : public QObject
{
    Q_OBJECT
public:
    explicit EspeakWorker(std::shared_ptr<std::atomic_bool> stopping);
    ~EspeakWorker() override;

    void run(const std::shared_ptr<SynthesisTask> &task);
    void shutdown();

private:
    bool ensureInitialized();
    bool selectVoice(const QString &name);

    std::shared_ptr<std::atomic_bool> m_stopping;
    int m_sampleRateHz = 0;
    QString m_currentVoice;
};

} // namespace apex
