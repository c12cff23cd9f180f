#pragma once

#include "observability/providerfailure.h"

#include <QByteArray>
#include <QObject>
#include <QString>

namespace apex {

struct SynthesisRequest
{
    QString text;     // one sentence, plain text (never markup)
    QString voice;    // tenant voice name
    QString language; // tenant language
    QString tenantId; // whose cache and quotas the sentence counts against
    QString callId;   // for log lines only: never part of a cache key
};

// One sentence being synthesised. Owned by whoever asked (its parent); deleting
// it or calling cancel() drops the work and guarantees no further signal.
class SynthesisJob : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    virtual void cancel() = 0;
    // Why it failed, in words governance understands; valid after failed().
    virtual ProviderFailure providerFailure() const { return {}; }

Q_SIGNALS:
    void audio(const QByteArray &mulaw8k); // in order; one or more chunks
    void finished();
    void failed(const QString &reason);
    // A cloud provider's request left (monotonic clock). What came before it
    // was our own queue or connection set-up; the turn trace shows it apart.
    void requestSent(qint64 monotonicNs);
};

// Text to 8 kHz mu-law, the format the caller hears. Shared by every call;
// synthesize() may be called from any engine thread and returns a job living on
// the calling thread.
class SpeechSynthesizer
{
public:
    virtual ~SpeechSynthesizer() = default;
    virtual QString name() const = 0;
    virtual bool supports(const SynthesisRequest &request) const = 0;
    virtual SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) = 0;
};

} // namespace apex
