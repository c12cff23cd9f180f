#include "providers/breakerpass.h"

#include <utility>

namespace apex {

namespace {
thread_local const std::string *t_callerLogPrefix = nullptr;
const std::string kNoCaller;
} // namespace

class BreakerPass::CallerScope
{
public:
    explicit CallerScope(const std::string &prefix)
        : m_previous(std::exchange(t_callerLogPrefix, &prefix))
    {
    }
    ~CallerScope() { t_callerLogPrefix = m_previous; }
    CallerScope(const CallerScope &) = delete;
    CallerScope &operator=(const CallerScope &) = delete;

private:
    const std::string *m_previous;
};

const std::string &BreakerPass::currentCallerLogPrefix()
{
    return t_callerLogPrefix ? *t_callerLogPrefix : kNoCaller;
}

BreakerPass::BreakerPass(std::shared_ptr<CircuitBreaker> breaker, std::string callerLogPrefix)
    : m_breaker(std::move(breaker))
    , m_callerLogPrefix(std::move(callerLogPrefix))
{
    if (!m_breaker)
        return;
    const CallerScope scope(m_callerLogPrefix);
    m_admission = m_breaker->admit(CircuitBreaker::Clock::now());
    m_open = isAdmitted(m_admission);
}

BreakerPass::BreakerPass(BreakerPass &&other) noexcept
    : m_breaker(std::move(other.m_breaker))
    , m_admission(other.m_admission)
    , m_open(std::exchange(other.m_open, false))
    , m_callerLogPrefix(std::move(other.m_callerLogPrefix))
{
}

BreakerPass &BreakerPass::operator=(BreakerPass &&other) noexcept
{
    if (this != &other) {
        abandoned();
        m_breaker = std::move(other.m_breaker);
        m_admission = other.m_admission;
        m_open = std::exchange(other.m_open, false);
        m_callerLogPrefix = std::move(other.m_callerLogPrefix);
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
    const CallerScope scope(m_callerLogPrefix);
    if (std::exchange(m_open, false))
        m_breaker->recordSuccess(m_admission, CircuitBreaker::Clock::now());
    return m_breaker->state();
}

BreakerState BreakerPass::failed(const ProviderFailure &failure, const QString &detail)
{
    if (!m_breaker)
        return BreakerState::Closed;
    const CallerScope scope(m_callerLogPrefix);
    if (std::exchange(m_open, false))
        m_breaker->recordFailure(m_admission, failure.kind, detail, CircuitBreaker::Clock::now());
    return m_breaker->state();
}

void BreakerPass::abandoned()
{
    if (m_breaker && std::exchange(m_open, false)) {
        const CallerScope scope(m_callerLogPrefix);
        m_breaker->recordAbandoned(m_admission);
    }
}

} // namespace apex
