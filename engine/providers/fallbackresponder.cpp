#include "providers/fallbackresponder.h"

#include "tenancy/tenant.h"

#include <algorithm>

namespace apex {

FallbackResponder::FallbackResponder(std::unique_ptr<Responder> primary, std::unique_ptr<Responder> fallback,
                                     ResponderGovernance governance, int firstWordDeadlineMs, QObject *parent)
    : Responder(parent)
    , m_primary(std::move(primary))
    , m_fallback(std::move(fallback))
    , m_governance(std::move(governance))
    , m_log("llm")
{
    m_firstWord.setSingleShot(true);
    m_firstWord.setInterval(firstWordDeadlineMs);
    connect(&m_firstWord, &QTimer::timeout, this, [this] {
        // The late answer is dropped: the primary is cancelled before the fallback speaks.
        m_primary->cancel();
        const QString reason = QStringLiteral("no first word within %1 ms").arg(m_firstWord.interval());
        m_pass.failed(ProviderFailure{FailureKind::Timeout}, reason);
        settle();
        m_log.warn("responder too slow ({}); answering from the fallback", reason);
        answerFromFallback();
    });
    connect(m_primary.get(), &Responder::textDelta, this, [this](const QString &text) {
        m_firstWord.stop();
        m_textSeen = true;
        Q_EMIT textDelta(text);
    });
    connect(m_primary.get(), &Responder::finished, this, [this] {
        m_firstWord.stop();
        if (m_governance.concurrency)
            m_governance.concurrency->onSuccess(m_concurrencyPermit);
        m_pass.succeeded();
        settle();
        Q_EMIT finished();
    });
    connect(m_primary.get(), &Responder::failed, this, [this](const QString &reason) {
        m_firstWord.stop();
        const ProviderFailure failure = m_primary->providerFailure();
        if (failure.kind == FailureKind::RateLimited && m_governance.concurrency)
            m_governance.concurrency->onRateLimited(m_concurrencyPermit, failure.retryAfter, AimdLimiter::Clock::now());
        const bool wasProbe = m_pass.isProbe();
        const BreakerState state = m_pass.failed(failure, reason);
        settle();
        if (state == BreakerState::Open && (wasProbe || failure.kind == FailureKind::Unauthorized))
            m_log.warn("the LLM breaker is open ({}): calls answer from the fallback until it heals", failureKindName(failure.kind));
        if (m_textSeen) {
            m_log.warn("responder failed mid-reply ({}); ending the reply where it stands", reason);
            Q_EMIT finished();
            return;
        }
        m_log.warn("responder failed before its first word ({}); answering from the fallback", reason);
        answerFromFallback();
    });
    connect(m_primary.get(), &Responder::requestSent, this, &Responder::requestSent);
    connect(m_fallback.get(), &Responder::textDelta, this, &Responder::textDelta);
    connect(m_fallback.get(), &Responder::finished, this, &Responder::finished);
    connect(m_fallback.get(), &Responder::failed, this, &Responder::failed);
}

void FallbackResponder::prepareCall(const QString &callId, const QString &tenantId)
{
    m_tenantId = tenantId;
    m_log.bind(callId, tenantId);
    m_primary->prepareCall(callId, tenantId);
    m_fallback->prepareCall(callId, tenantId);
}

QString FallbackResponder::admitPrimary()
{
    m_pass = BreakerPass(m_governance.breaker);
    if (m_pass.refused())
        return QStringLiteral("the LLM breaker is open");
    if (m_governance.tenantQuota) {
        m_tenantPermit = m_governance.tenantQuota->tryAcquire(m_tenantId);
        if (!m_tenantPermit)
            return QStringLiteral("the tenant's LLM quota is in use");
    }
    if (m_governance.concurrency) {
        m_concurrencyPermit = m_governance.concurrency->tryAcquire(AimdLimiter::Clock::now());
        if (!m_concurrencyPermit) {
            const AimdSnapshot s = m_governance.concurrency->snapshot(AimdLimiter::Clock::now());
            return s.blockedUntil ? QStringLiteral("the LLM asked us to wait (retry-after)")
                                  : QStringLiteral("the LLM concurrency limit is reached (%1 in flight, limit %2)").arg(s.inFlight).arg(s.limit);
        }
    }
    return {};
}

void FallbackResponder::respond(const ResponderRequest &request)
{
    m_request = request;
    m_textSeen = false;
    m_usedFallback = false;
    settle();
    const QString refusal = admitPrimary();
    if (!refusal.isEmpty()) {
        settle(); // a refused request holds nothing and counts for nothing
        m_log.info("answering from the fallback at once: {}", refusal);
        answerFromFallback();
        return;
    }
    if (m_firstWord.interval() > 0)
        m_firstWord.start();
    m_primary->respond(request);
}

void FallbackResponder::answerFromFallback()
{
    m_usedFallback = true;
    m_fallback->respond(m_request);
}

void FallbackResponder::settle()
{
    m_pass.abandoned();
    m_concurrencyPermit.release();
    m_tenantPermit.release();
}

void FallbackResponder::cancel()
{
    // Barge-in or hang-up says nothing about the provider.
    m_firstWord.stop();
    settle();
    m_primary->cancel();
    m_fallback->cancel();
}

FallbackResponderFactory::FallbackResponderFactory(ResponderFactory *primary, ResponderFactory *fallback,
                                                   ResponderGovernance governance)
    : m_primary(primary)
    , m_fallback(fallback)
    , m_governance(std::move(governance))
{
}

QString FallbackResponderFactory::name() const
{
    return m_primary->name() + QStringLiteral("+") + m_fallback->name();
}

std::unique_ptr<Responder> FallbackResponderFactory::create(const Tenant &tenant)
{
    const int firstWordDeadlineMs = std::max(300, tenant.silenceBudgetMs - tenant.endpointingMs - m_governance.reserveForSpeechMs);
    return std::make_unique<FallbackResponder>(m_primary->create(tenant), m_fallback->create(tenant), m_governance,
                                               firstWordDeadlineMs);
}

} // namespace apex
