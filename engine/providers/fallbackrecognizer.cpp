#include "providers/fallbackrecognizer.h"

#include "observability/logging.h"

namespace apex {

FallbackRecognizer::FallbackRecognizer(std::unique_ptr<SpeechRecognizer> primary, SpeechRecognizerFactory *fallback,
                                       Tenant tenant, QString callId, QObject *parent)
    : SpeechRecognizer(parent)
    , m_fallback(fallback)
    , m_tenant(std::move(tenant))
    , m_callId(std::move(callId))
{
    m_current = std::move(primary);
    adopt(m_current.get());
}

void FallbackRecognizer::adopt(SpeechRecognizer *recognizer)
{
    connect(recognizer, &SpeechRecognizer::speechStarted, this, &SpeechRecognizer::speechStarted);
    connect(recognizer, &SpeechRecognizer::partialTranscript, this, &SpeechRecognizer::partialTranscript);
    connect(recognizer, &SpeechRecognizer::endOfSpeech, this, &SpeechRecognizer::endOfSpeech);
    connect(recognizer, &SpeechRecognizer::finalTranscript, this, &SpeechRecognizer::finalTranscript);
    connect(recognizer, &SpeechRecognizer::failed, this, [this, recognizer](const QString &reason) {
        if (m_stopped || recognizer != m_current.get())
            return;
        if (m_onFallback || !m_fallback) {
            Q_EMIT failed(reason);
            return;
        }
        log::CallLogger("stt", m_callId, m_tenant.id).warn("{} failed ({}); continuing with {}", recognizer->metaObject()->className(), reason, m_fallback->name());
        m_onFallback = true;
        recognizer->disconnect(this);
        recognizer->stop();
        // Not now: we are inside the failing recognizer's own signal.
        m_current.release()->deleteLater();
        m_current = m_fallback->create(m_tenant, m_callId);
        adopt(m_current.get());
    });
}

void FallbackRecognizer::pushMulaw(QByteArrayView mulaw)
{
    if (!m_stopped)
        m_current->pushMulaw(mulaw);
}

void FallbackRecognizer::stop()
{
    m_stopped = true;
    m_current->stop();
}

FallbackRecognizerFactory::FallbackRecognizerFactory(SpeechRecognizerFactory *primary, SpeechRecognizerFactory *fallback)
    : m_primary(primary)
    , m_fallback(fallback)
{
}

QString FallbackRecognizerFactory::name() const
{
    return m_primary->name() + QStringLiteral("+") + m_fallback->name();
}

void FallbackRecognizerFactory::prepareTenant(const Tenant &tenant)
{
    m_primary->prepareTenant(tenant);
    m_fallback->prepareTenant(tenant);
}

std::unique_ptr<SpeechRecognizer> FallbackRecognizerFactory::create(const Tenant &tenant, const QString &callId)
{
    return std::make_unique<FallbackRecognizer>(m_primary->create(tenant, callId), m_fallback, tenant, callId);
}

} // namespace apex
