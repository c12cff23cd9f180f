#include "providers/breakerpass.h"

namespace apex {

BreakerPass::BreakerPass(std::shared_ptr<CircuitBreaker> breaker)
    : m_breaker(std::move(breaker))
{
    if (!m_breaker)
        return;
    m_admission = m_breaker->admit(CircuitBreaker::Clock::now());
    m_open = isAdmitted(m_admission);
}

BreakerPass::BreakerPass(BreakerPass &&other) noexcept
    : m_breaker(std::move(other.m_breaker))
    , m_admission(other.m_admission)
    , m_open(std::exchange(other.m_open, false))
{
}

BreakerPass &BreakerPass::operator=(BreakerPass &&other) noexcept
{
    if (this != &other) {
        abandoned();
        m_breaker = std::move(other.m_breaker);
        m_admission = other.m_admission;
        m_open = std::exchange(other.m_open, false);
    }
    return *this;
}

BreakerPass::~BreakerPass()
{
    abandoned();
}

BreakerState BreakerPass::succeeded()
{
    if (!m_breaker)
        return BreakerState::Closed;
    if (std::exchange(m_open, false))
        m_breaker->recordSuccess(m_admission, CircuitBreaker::Clock::now());
    return m_breaker->state();
}

BreakerState BreakerPass::failed(const ProviderFailure &failure, const QString &detail)
{
    if (!m_breaker)
        return BreakerState::Closed;
    if (std::exchange(m_open, false))
        m_breaker->recordFailure(m_admission, failure.kind, detail, CircuitBreaker::Clock::now());
    return m_breaker->state();
}

void BreakerPass::abandoned()
{
    if (m_breaker && std::exchange(m_open, false))
        m_breaker->recordAbandoned(m_admission);
}

} // namespace apex
