#include "providers/fallbackrecognizer.h"

#include "audio/g711.h"

#include <utility>

namespace apex {

namespace {

audio::VoiceActivityDetector::Settings vadFor(const Tenant &tenant)
{
    audio::VoiceActivityDetector::Settings settings;
    settings.endpointingMs = tenant.endpointingMs;
    return settings;
}

} // namespace

FallbackRecognizer::FallbackRecognizer(std::unique_ptr<SpeechRecognizer> primary, SpeechRecognizerFactory *fallback,
                                       Tenant tenant, QString callId, RecognitionGovernance governance, BreakerPass pass,
                                       QObject *parent)
    : SpeechRecognizer(parent)
    , m_fallback(fallback)
    , m_tenant(std::move(tenant))
    , m_callId(std::move(callId))
    , m_governance(std::move(governance))
    , m_pass(std::move(pass))
    , m_log("stt", m_callId, m_tenant.id)
    , m_vad(vadFor(m_tenant))
{
    m_deafWatchdog.setSingleShot(true);
    connect(&m_deafWatchdog, &QTimer::timeout, this, [this] {
        // The turn starts now, from when the caller really stopped, so the
        // call's silence budget (and its hold line) still holds; the fallback's
        // own end of speech for the replayed utterance is then the same one.
        m_endOfSpeechReported = true;
        Q_EMIT endOfSpeech(m_tenant.endpointingMs + m_governance.resultDeadlineMs);
        failOver(ProviderFailure{FailureKind::Timeout},
                 QStringLiteral("no result %1 ms after the caller stopped speaking").arg(m_governance.resultDeadlineMs));
    });
    m_current = std::move(primary);
    adopt(m_current.get());
}

void FallbackRecognizer::adopt(SpeechRecognizer *recognizer)
{
    // An onset alone proves nothing: a connection that hears but never
    // transcribes still reports speech starting.
    connect(recognizer, &SpeechRecognizer::speechStarted, this, &SpeechRecognizer::speechStarted);
    connect(recognizer, &SpeechRecognizer::partialTranscript, this, [this](const QString &text) {
        heardFromPrimary();
        Q_EMIT partialTranscript(text);
    });
    connect(recognizer, &SpeechRecognizer::endOfSpeech, this, [this](qint64 silenceMs) {
        heardFromPrimary();
        if (std::exchange(m_endOfSpeechReported, false))
            return;
        Q_EMIT endOfSpeech(silenceMs);
    });
    connect(recognizer, &SpeechRecognizer::finalTranscript, this, [this](const QString &text) {
        heardFromPrimary();
        m_endOfSpeechReported = false;
        // Answered for: the fallback will never need to hear it again.
        m_unanswered.clear();
        m_utteranceStart = 0;
        if (!m_onFallback)
            m_pass.succeeded();
        Q_EMIT finalTranscript(text);
    });
    connect(recognizer, &SpeechRecognizer::failed, this, [this, recognizer](const QString &reason) {
        if (m_stopped || recognizer != m_current.get())
            return;
        if (m_onFallback || !m_fallback) {
            m_failure = recognizer->providerFailure();
            Q_EMIT failed(reason);
            return;
        }
        failOver(recognizer->providerFailure(), reason);
    });
}

void FallbackRecognizer::heardFromPrimary()
{
    m_primarySpokeSinceOnset = true;
    m_deafWatchdog.stop();
}

void FallbackRecognizer::failOver(const ProviderFailure &failure, const QString &reason)
{
    if (m_stopped || m_onFallback)
        return;
    m_failure = failure;
    // A call that already succeeded once has settled its pass: this failure
    // still counts, through a pass of its own.
    BreakerPass late;
    if (!m_pass.pending())
        late = BreakerPass(m_governance.breaker, m_log.prefix());
    BreakerPass &pass = m_pass.pending() ? m_pass : late;
    const bool wasProbe = pass.isProbe();
    if (pass.failed(failure, reason) == BreakerState::Open && (wasProbe || failure.kind == FailureKind::Unauthorized))
        m_log.warn("the STT breaker is open ({}): new calls start on {}", failureKindName(failure.kind), m_fallback->name());
    m_log.warn("{} failed ({}); continuing with {}, replaying the last {} ms it did not answer for",
               m_current->metaObject()->className(), reason, m_fallback->name(), m_unanswered.size() / 8);
    m_onFallback = true;
    m_deafWatchdog.stop();
    SpeechRecognizer *old = m_current.release();
    old->disconnect(this);
    old->stop();
    // Not now: we may be inside the failing recognizer's own signal.
    old->deleteLater();
    m_current = m_fallback->create(m_tenant, m_callId);
    adopt(m_current.get());
    // The utterance the caller waits for, with a little audio before its
    // onset: older unanswered audio (silence under the greeting) would only
    // delay the answer.
    const QByteArray replay = m_unanswered.mid(std::max<qsizetype>(0, m_utteranceStart));
    m_unanswered.clear();
    m_utteranceStart = 0;
    if (!replay.isEmpty())
        m_current->pushMulaw(replay);
}

void FallbackRecognizer::pushMulaw(QByteArrayView mulaw)
{
    if (m_stopped)
        return;
    if (!m_onFallback) {
        m_unanswered.append(mulaw.data(), mulaw.size());
        if (m_unanswered.size() > kMaxUnansweredBytes) {
            const qsizetype dropped = m_unanswered.size() - kMaxUnansweredBytes;
            m_unanswered.remove(0, dropped);
            m_utteranceStart = std::max<qsizetype>(0, m_utteranceStart - dropped);
        }
        const QVector<std::int16_t> pcm = audio::g711::decodeMulaw(mulaw);
        switch (m_vad.push(pcm)) {
        case audio::VoiceActivityDetector::Event::SpeechStarted:
            m_primarySpokeSinceOnset = false;
            m_utteranceStart = std::max<qsizetype>(0, m_unanswered.size() - kPreRollBytes);
            break;
        case audio::VoiceActivityDetector::Event::SpeechEnded:
            if (!m_primarySpokeSinceOnset && m_governance.resultDeadlineMs > 0 && m_fallback)
                m_deafWatchdog.start(m_governance.resultDeadlineMs);
            break;
        case audio::VoiceActivityDetector::Event::None:
            break;
        }
    }
    m_current->pushMulaw(mulaw);
}

void FallbackRecognizer::stop()
{
    m_stopped = true;
    m_deafWatchdog.stop();
    m_pass.abandoned();
    m_current->stop();
}

FallbackRecognizerFactory::FallbackRecognizerFactory(SpeechRecognizerFactory *primary, SpeechRecognizerFactory *fallback,
                                                     RecognitionGovernance governance)
    : m_primary(primary)
    , m_fallback(fallback)
    , m_governance(std::move(governance))
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
    BreakerPass pass(m_governance.breaker, log::CallLogger("stt", callId, tenant.id).prefix());
    if (pass.refused()) {
        log::CallLogger("stt", callId, tenant.id).info("starting on {}: the STT breaker is open", m_fallback->name());
        return m_fallback->create(tenant, callId);
    }
    return std::make_unique<FallbackRecognizer>(m_primary->create(tenant, callId), m_fallback, tenant, callId, m_governance,
                                                std::move(pass));
}

} // namespace apex
