#pragma once

#include "audio/vad.h"
#include "observability/logging.h"
#include "providers/breakerpass.h"
#include "stt/speechrecognizer.h"
#include "tenancy/tenant.h"

#include <QByteArray>
#include <QTimer>

#include <memory>

namespace apex {

struct RecognitionGovernance
{
    std::shared_ptr<CircuitBreaker> breaker;
    // The caller spoke and stopped (by our own VAD) and the primary has said
    // nothing for this long: it is deaf, and the fallback takes over.
    int resultDeadlineMs = 700;
};

// A call whose cloud transcription fails for good (bad key, reconnects spent),
// or goes deaf while audio flows, carries on with the fallback recognizer
// (Deepgram -> pocketsphinx), which first hears the audio the primary never
// answered: the caller notices a different ear, not a dead line.
class FallbackRecognizer : public SpeechRecognizer
{
    Q_OBJECT
public:
    FallbackRecognizer(std::unique_ptr<SpeechRecognizer> primary, SpeechRecognizerFactory *fallback, Tenant tenant,
                       QString callId, RecognitionGovernance governance = {}, BreakerPass pass = {}, QObject *parent = nullptr);

    void pushMulaw(QByteArrayView mulaw) override;
    void stop() override;
    ProviderFailure providerFailure() const override { return m_failure; }
    bool onFallback() const { return m_onFallback; }

    // Audio kept for the fallback to hear: the last seconds the primary has not
    // answered for.
    static constexpr qsizetype kMaxUnansweredBytes = 8000 * 15;
    // Audio before our VAD's onset that belongs to the utterance (its soft start).
    static constexpr qsizetype kPreRollBytes = 8000 * 3 / 10;

private:
    void adopt(SpeechRecognizer *recognizer);
    void heardFromPrimary();
    void failOver(const ProviderFailure &failure, const QString &reason);

    std::unique_ptr<SpeechRecognizer> m_current;
    SpeechRecognizerFactory *m_fallback;
    Tenant m_tenant;
    QString m_callId;
    RecognitionGovernance m_governance;
    BreakerPass m_pass;
    log::CallLogger m_log;
    audio::VoiceActivityDetector m_vad;
    QByteArray m_unanswered;
    qsizetype m_utteranceStart = 0; // where in m_unanswered the latest utterance begins
    QTimer m_deafWatchdog;
    ProviderFailure m_failure;
    bool m_primarySpokeSinceOnset = false;
    bool m_endOfSpeechReported = false; // by the deaf watchdog, for the utterance being replayed
    bool m_onFallback = false;
    bool m_stopped = false;
};

class FallbackRecognizerFactory : public SpeechRecognizerFactory
{
public:
    FallbackRecognizerFactory(SpeechRecognizerFactory *primary, SpeechRecognizerFactory *fallback,
                              RecognitionGovernance governance = {});
    QString name() const override;
    void prepareTenant(const Tenant &tenant) override;
    std::unique_ptr<SpeechRecognizer> create(const Tenant &tenant, const QString &callId) override;

private:
    SpeechRecognizerFactory *m_primary;
    SpeechRecognizerFactory *m_fallback;
    RecognitionGovernance m_governance;
};

} // namespace apex
