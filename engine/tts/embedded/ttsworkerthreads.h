#pragma once

#include "tts/embedded/synthesistask.h"

#include <QThread>

#include <memory>

namespace apex {

class EspeakWorker;
class FliteVoiceWorker;

// The two TTS threads of the process, shared by every EmbeddedSynthesizer and by
// synthesizeBlocking(): espeak-ng is process-global, so there can only be one
// thread driving it. Lives while someone holds it; the last holder's release
// quits and joins both threads.
class TtsWorkerThreads
{
public:
    enum class Engine { Flite, Espeak };

    static std::shared_ptr<TtsWorkerThreads> acquire();
    ~TtsWorkerThreads();

    // Thread-safe; the task runs later on the engine's thread, in submission order.
    // `adopt` (may be null) is moved to that thread and deleted with the task:
    // the object the task's callbacks emit on.
    void submit(Engine engine, std::shared_ptr<SynthesisTask> task, QObject *adopt = nullptr);

private:
    TtsWorkerThreads();

    std::shared_ptr<std::atomic_bool> m_stopping = std::make_shared<std::atomic_bool>(false);
    QThread m_fliteThread;
    QThread m_espeakThread;
    FliteVoiceWorker *m_flite = nullptr;
    EspeakWorker *m_espeak = nullptr;
};

} // namespace apex
