#pragma once

#include "tts/speechsynthesizer.h"

#include <atomic>
#include <memory>

namespace apex {

class SynthesisRelay;

// The caller's handle on one sentence in the flite or espeak-ng queue. Lives on
// the caller's thread; re-emits what the relay delivers unless cancelled.
class EmbeddedSynthesisJob : public SynthesisJob
{
    Q_OBJECT
public:
    EmbeddedSynthesisJob(std::shared_ptr<std::atomic_bool> cancelled, QObject *parent);

    void cancel() override;
    bool isCancelled() const { return m_cancelledHere; }

    // Queued connections from a relay that will be emitted on a worker thread.
    void attach(SynthesisRelay *relay);
    // Finishes without audio, on the next event loop pass so the caller can connect first.
    void finishEmpty();

private:
    void deliverAudio(const QByteArray &mulaw8k);
    void deliverFinished();
    void deliverFailed(const QString &reason);

    std::shared_ptr<std::atomic_bool> m_cancelled; // shared with the worker, lets it skip the work
    bool m_cancelledHere = false;                  // checked on this thread before every emit
    bool m_done = false;
};

} // namespace apex
