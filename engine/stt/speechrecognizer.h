#pragma once

#include "observability/providerfailure.h"

#include <QByteArrayView>
#include <QObject>
#include <QString>
#include <memory>

namespace apex {

struct Tenant;

// One live transcription stream per call. Lives on the call's engine thread;
// implementations do heavy work elsewhere and post results back. Signals are
// edge-triggered: never one per 20 ms frame.
class SpeechRecognizer : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~SpeechRecognizer() override = default;

    // Caller audio, 8 kHz mu-law, as it arrives (normally 160-byte frames).
    virtual void pushMulaw(QByteArrayView mulaw) = 0;
    // The call is over: drop pending work; no signal is emitted afterwards.
    virtual void stop() = 0;
    // Why it failed, in words governance understands; valid after failed().
    virtual ProviderFailure providerFailure() const { return {}; }

Q_SIGNALS:
    void speechStarted();                        // onset: the barge-in hint
    void partialTranscript(const QString &text); // revisable preview
    // Endpointing silence reached. silenceMs: how long the caller has been
    // silent by now, when a recognizer reports it late (-1: the tenant's endpointing).
    void endOfSpeech(qint64 silenceMs = -1);
    void finalTranscript(const QString &text);   // the utterance; may be empty
    void failed(const QString &reason);
};

class SpeechRecognizerFactory
{
public:
    virtual ~SpeechRecognizerFactory() = default;
    virtual QString name() const = 0;
    // Called once per tenant at load, off the engine threads (may be slow).
    virtual void prepareTenant(const Tenant &tenant) = 0;
    // Never blocks. The call id goes on the recognizer's log lines.
    virtual std::unique_ptr<SpeechRecognizer> create(const Tenant &tenant, const QString &callId) = 0;
};

} // namespace apex
