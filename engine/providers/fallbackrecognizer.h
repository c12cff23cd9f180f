#pragma once

#include "stt/speechrecognizer.h"
#include "tenancy/tenant.h"

#include <memory>

namespace apex {

// A call whose cloud transcription fails for good (bad key, reconnects spent)
// carries on with the fallback recognizer (Deepgram -> pocketsphinx) from the
// next frame: the caller notices a different ear, not a dead line.
class FallbackRecognizer : public SpeechRecognizer
{
    Q_OBJECT
public:
    FallbackRecognizer(std::unique_ptr<SpeechRecognizer> primary, SpeechRecognizerFactory *fallback, Tenant tenant,
                       QString callId, QObject *parent = nullptr);

    void pushMulaw(QByteArrayView mulaw) override;
    void stop() override;
    bool onFallback() const { return m_onFallback; }

private:
    void adopt(SpeechRecognizer *recognizer);

    std::unique_ptr<SpeechRecognizer> m_current;
    SpeechRecognizerFactory *m_fallback;
    Tenant m_tenant;
    QString m_callId;
    bool m_onFallback = false;
    bool m_stopped = false;
};

class FallbackRecognizerFactory : public SpeechRecognizerFactory
{
public:
    FallbackRecognizerFactory(SpeechRecognizerFactory *primary, SpeechRecognizerFactory *fallback);
    QString name() const override;
    void prepareTenant(const Tenant &tenant) override;
    std::unique_ptr<SpeechRecognizer> create(const Tenant &tenant, const QString &callId) override;

private:
    SpeechRecognizerFactory *m_primary;
    SpeechRecognizerFactory *m_fallback;
};

} // namespace apex
