#pragma once

#include "tts/embedded/synthesistask.h"

#include <QHash>
#include <QObject>

#include <memory>

struct cst_voice_struct;

namespace apex {

// Owns flite on the "tts-flite" thread: every flite call happens here, one
// sentence at a time, because flite keeps global state and is not thread-safe.
// Voices are registered on first use, not at start-up.
class FliteVoiceWorker : public QObject
{
    Q_OBJECT
public:
    explicit FliteVoiceWorker(std::shared_ptr<std::atomic_bool> stopping);
    ~FliteVoiceWorker() override;

    void run(const std::shared_ptr<SynthesisTask> &task);
    // Called on the worker thread as it finishes: unregisters the voices.
    void shutdown();

private:
    cst_voice_struct *voice(const QString &name);

    std::shared_ptr<std::atomic_bool> m_stopping;
    bool m_initialized = false;
    QHash<QString, cst_voice_struct *> m_voices;
};

} // namespace apex
