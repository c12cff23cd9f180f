#include "providers/fallbacksynthesizer.h"

#include "observability/logging.h"

#include <QPointer>

namespace apex {

namespace {

class FallbackJob : public SynthesisJob
{
public:
    FallbackJob(const SynthesisRequest &request, SpeechSynthesizer *primary, SpeechSynthesizer *fallback, QObject *parent)
        : SynthesisJob(parent)
        , m_request(request)
        , m_fallback(fallback)
    {
        follow(primary->synthesize(request, this), true);
    }

    void cancel() override
    {
        m_cancelled = true;
        if (m_current)
            m_current->cancel();
    }

private:
    void follow(SynthesisJob *job, bool isPrimary)
    {
        m_current = job;
        connect(job, &SynthesisJob::audio, this, [this](const QByteArray &mulaw) {
            if (m_cancelled)
                return;
            m_audioSeen = true;
            Q_EMIT audio(mulaw);
        });
        connect(job, &SynthesisJob::finished, this, [this] {
            if (!m_cancelled)
                Q_EMIT finished();
        });
        connect(job, &SynthesisJob::failed, this, [this, job, isPrimary](const QString &reason) {
            if (m_cancelled)
                return;
            if (isPrimary && !m_audioSeen && m_fallback) {
                log::get("tts")->warn("call=- tenant={} primary synthesis failed ({}); speaking with the fallback",
                                      m_request.tenantId, reason);
                job->deleteLater();
                follow(m_fallback->synthesize(m_request, this), false);
                return;
            }
            Q_EMIT failed(reason);
        });
    }

    SynthesisRequest m_request;
    SpeechSynthesizer *m_fallback;
    QPointer<SynthesisJob> m_current;
    bool m_audioSeen = false;
    bool m_cancelled = false;
};

} // namespace

FallbackSynthesizer::FallbackSynthesizer(SpeechSynthesizer *primary, SpeechSynthesizer *fallback)
    : m_primary(primary)
    , m_fallback(fallback)
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
    return new FallbackJob(request, m_primary, m_fallback, parent);
}

} // namespace apex
