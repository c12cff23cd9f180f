#include "providers/fallbacksynthesizer.h"

#include "observability/logging.h"

#include <QPointer>
#include <QTimer>

namespace apex {

namespace {

class FallbackJob : public SynthesisJob
{
public:
    FallbackJob(const SynthesisRequest &request, SpeechSynthesizer *primary, SpeechSynthesizer *fallback,
                const SynthesisGovernance &governance, QObject *parent)
        : SynthesisJob(parent)
        , m_request(request)
        , m_fallback(fallback)
        , m_governance(governance)
        , m_log("tts", request.callId, request.tenantId)
        , m_pass(governance.breaker, m_log.prefix())
    {
        m_watchdog.setSingleShot(true);
        connect(&m_watchdog, &QTimer::timeout, this, &FallbackJob::onWatchdog);
        if (m_pass.refused()) {
            m_log.info("speaking with the fallback at once: the TTS breaker is open");
            follow(m_fallback->synthesize(m_request, this), false);
            return;
        }
        follow(primary->synthesize(request, this), true);
        if (m_governance.firstAudioDeadlineMs > 0)
            m_watchdog.start(m_governance.firstAudioDeadlineMs);
    }

    void cancel() override
    {
        m_cancelled = true;
        m_watchdog.stop();
        m_pass.abandoned();
        if (m_current)
            m_current->cancel();
    }

    ProviderFailure providerFailure() const override { return m_failure; }

private:
    void follow(SynthesisJob *job, bool isPrimary)
    {
        m_current = job;
        m_onPrimary = isPrimary;
        connect(job, &SynthesisJob::audio, this, [this, isPrimary](const QByteArray &mulaw) {
            if (m_cancelled)
                return;
            m_audioSeen = true;
            if (isPrimary && m_governance.stallMs > 0)
                m_watchdog.start(m_governance.stallMs);
            Q_EMIT audio(mulaw);
        });
        connect(job, &SynthesisJob::requestSent, this, [this](qint64 ns) {
            if (!m_cancelled)
                Q_EMIT requestSent(ns);
        });
        connect(job, &SynthesisJob::finished, this, [this, isPrimary] {
            if (m_cancelled)
                return;
            m_watchdog.stop();
            if (isPrimary)
                m_pass.succeeded();
            Q_EMIT finished();
        });
        connect(job, &SynthesisJob::failed, this, [this, job, isPrimary](const QString &reason) {
            if (m_cancelled)
                return;
            m_watchdog.stop();
            m_failure = job->providerFailure();
            if (isPrimary)
                giveUpOnPrimary(m_failure, reason);
            else
                Q_EMIT failed(reason);
        });
    }

    void onWatchdog()
    {
        if (m_cancelled || !m_onPrimary)
            return;
        const QString reason = m_audioSeen
            ? QStringLiteral("%1 stalled: no audio for %2 ms mid-sentence").arg(m_current ? m_current->metaObject()->className() : "TTS").arg(m_governance.stallMs)
            : QStringLiteral("no first audio within %1 ms").arg(m_governance.firstAudioDeadlineMs);
        // Dropped, not awaited: a late answer must never reach the caller.
        if (m_current) {
            m_current->disconnect(this);
            m_current->cancel();
            m_current->deleteLater();
        }
        m_failure = ProviderFailure{FailureKind::Timeout};
        giveUpOnPrimary(m_failure, reason);
    }

    void giveUpOnPrimary(const ProviderFailure &failure, const QString &reason)
    {
        const bool wasProbe = m_pass.isProbe();
        if (m_pass.failed(failure, reason) == BreakerState::Open && (wasProbe || failure.kind == FailureKind::Unauthorized))
            m_log.warn("the TTS breaker is open ({}): sentences go to the fallback voice until it heals", failureKindName(failure.kind));
        if (m_audioSeen)
            m_log.warn("primary synthesis failed mid-sentence ({}); the fallback voice speaks the sentence again", reason);
        else
            m_log.warn("primary synthesis failed ({}); speaking with the fallback", reason);
        if (m_current && m_current->parent() == this)
            m_current->deleteLater();
        follow(m_fallback->synthesize(m_request, this), false);
    }

    SynthesisRequest m_request;
    SpeechSynthesizer *m_fallback;
    SynthesisGovernance m_governance;
    log::CallLogger m_log;
    BreakerPass m_pass;
    QTimer m_watchdog;
    QPointer<SynthesisJob> m_current;
    ProviderFailure m_failure;
    bool m_onPrimary = false;
    bool m_audioSeen = false;
    bool m_cancelled = false;
};

} // namespace

FallbackSynthesizer::FallbackSynthesizer(SpeechSynthesizer *primary, SpeechSynthesizer *fallback, SynthesisGovernance governance)
    : m_primary(primary)
    , m_fallback(fallback)
    , m_governance(std::move(governance))
{
}

QString FallbackSynthesizer::name() const
{
    return m_primary->name() + QStringLiteral("+") + m_fallback->name();
}

bool FallbackSynthesizer::supports(const SynthesisRequest &request) const
{
    return m_primary->supports(request) || m_fallback->supports(request);
}

SynthesisJob *FallbackSynthesizer::synthesize(const SynthesisRequest &request, QObject *parent)
{
    if (!m_primary->supports(request))
        return m_fallback->synthesize(request, parent);
    return new FallbackJob(request, m_primary, m_fallback, m_governance, parent);
}

} // namespace apex
