#pragma once

#include <QByteArray>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

namespace apex {

// One unit of work handed to a TTS worker thread. The sink callbacks run on the
// worker thread; whoever builds the task makes them safe to call from there.
// After onFinished or onFailed no callback runs again.
struct SynthesisTask
{
    QString text;
    QString voice;
    std::shared_ptr<std::atomic_bool> cancelled = std::make_shared<std::atomic_bool>(false);
    std::function<void(const QByteArray &mulaw8k)> onAudio;
    std::function<void()> onFinished;
    std::function<void(const QString &reason)> onFailed;
    // Released on the worker thread once the task is done with (see TtsWorkerThreads).
    std::shared_ptr<void> keepAlive;

    bool isCancelled() const { return cancelled->load(std::memory_order_relaxed); }
};

} // namespace apex
