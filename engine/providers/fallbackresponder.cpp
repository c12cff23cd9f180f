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
        giveUpOnPrimary(ProviderFailure{FailureKind::Timeout},
                        QStringLiteral("no first sentence within %1 ms").arg(m_firstWord.interval()));
    });
    m_stall.setSingleShot(true);
    m_stall.setInterval(m_governance.stallMs);
    connect(&m_stall, &QTimer::timeout, this, [this] {
        giveUpOnPrimary(ProviderFailure{FailureKind::Timeout},
                        QStringLiteral("the stream stalled: no token for %1 ms").arg(m_stall.interval()));
    });
    connect(m_primary.get(), &Responder::textDelta, this, [this](const QString &text) {
        if (m_spoken) {
            if (m_stall.interval() > 0)
                m_stall.start();
            Q_EMIT textDelta(text);
            return;
        }
        // Held until the first sentence is whole: until then a failure can
        // still be answered by the fallback without the caller hearing a
        // fragment of the primary's reply.
        m_held += text;
        static const QString kSentenceEnds = QStringLiteral(".?!\n\u0964");
        if (std::none_of(text.cbegin(), text.cend(), [](QChar c) { return kSentenceEnds.contains(c); }))
            return;
        m_firstWord.stop();
        m_spoken = true;
        if (m_stall.interval() > 0)
            m_stall.start();
        Q_EMIT textDelta(std::exchange(m_held, QString()));
    });
    connect(m_primary.get(), &Responder::finished, this, [this] {
        stopTimers();
        if (m_governance.concurrency)
            m_governance.concurrency->onSuccess(m_concurrencyPermit);
        m_pass.succeeded();
        settle();
        if (!m_held.isEmpty()) {
            m_spoken = true;
            Q_EMIT textDelta(std::exchange(m_held, QString()));
        }
        Q_EMIT finished();
    });
    connect(m_primary.get(), &Responder::failed, this, [this](const QString &reason) {
        giveUpOnPrimary(m_primary->providerFailure(), reason, false);
    });
    connect(m_primary.get(), &Responder::rateLimited, this, [this](qint64 retryAfterMs) {
        // Halve now, while the permit of the request that met the 429 is held;
        // and when its retry could not land before the deadline, do not wait
        // for it: the caller is listening to silence.
        if (m_governance.concurrency)
            m_governance.concurrency->onRateLimited(m_concurrencyPermit, std::chrono::milliseconds(std::max<qint64>(0, retryAfterMs)),
                                                    AimdLimiter::Clock::now());
        m_rateLimitSeen = true;
        if (!m_spoken && m_firstWord.isActive() && retryAfterMs >= m_firstWord.remainingTime())
            giveUpOnPrimary(ProviderFailure{FailureKind::RateLimited, 429, std::chrono::milliseconds(retryAfterMs)},
                            QStringLiteral("rate limited (HTTP 429), retry after %1 ms does not fit the first-word deadline").arg(retryAfterMs));
    });
    connect(m_primary.get(), &Responder::requestSent, this, &Responder::requestSent);
    connect(m_fallback.get(), &Responder::textDelta, this, &Responder::textDelta);
    connect(m_fallback.get(), &Responder::finished, this, &Responder::finished);
    connect(m_fallback.get(), &Responder::failed, this, &Responder::failed);
}

void FallbackResponder::stopTimers()
{
    m_firstWord.stop();
    m_stall.stop();
}

void FallbackResponder::giveUpOnPrimary(ProviderFailure failure, const QString &reason, bool cancelPrimary)
{
    stopTimers();
    // Dropped, not awaited: a late answer must never reach the caller.
    if (cancelPrimary)
        m_primary->cancel();
    if (failure.kind == FailureKind::RateLimited && !m_rateLimitSeen && m_governance.concurrency)
        m_governance.concurrency->onRateLimited(m_concurrencyPermit, failure.retryAfter, AimdLimiter::Clock::now());
    if (m_rateLimitSeen && failure.kind == FailureKind::Timeout)
        failure.kind = FailureKind::RateLimited;
    const bool wasProbe = m_pass.isProbe();
    const BreakerState state = m_pass.failed(failure, reason);
    settle();
    if (state == BreakerState::Open && (wasProbe || failure.kind == FailureKind::Unauthorized))
        m_log.warn("the LLM breaker is open ({}): calls answer from the fallback until it heals", failureKindName(failure.kind));
    m_held.clear();
    if (m_spoken) {
        m_log.warn("responder failed mid-reply ({}); ending the reply where it stands", reason);
        Q_EMIT finished();
        return;
    }
    m_log.warn("responder failed before its first sentence ({}); answering from the fallback", reason);
    answerFromFallback();
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
    m_pass = BreakerPass(m_governance.breaker, m_log.prefix());
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
    m_held.clear();
    m_spoken = false;
    m_rateLimitSeen = false;
    m_usedFallback = false;
    stopTimers();
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
    stopTimers();
    m_held.clear();
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
