#include "providers/aimdlimiter.h"

#include <QMutex>
#include <QMutexLocker>

#include <algorithm>
#include <utility>

namespace apex {

struct AimdLimiter::State
{
    QMutex mutex;
    int limit = 1;
    int ceiling = 1;
    int inFlight = 0;
    std::uint64_t epoch = 0;
    Clock::time_point blockedUntil{};
    std::uint64_t acquired = 0;
    std::uint64_t refused = 0;
    std::uint64_t decreases = 0;

    void blockUntil(Clock::time_point until) { blockedUntil = std::max(blockedUntil, until); }
};

AimdLimiter::Permit::Permit(std::shared_ptr<State> state, std::uint64_t epoch)
    : m_state(std::move(state))
    , m_epoch(epoch)
{
}

AimdLimiter::Permit::Permit(Permit &&other) noexcept
    : m_state(std::exchange(other.m_state, nullptr))
    , m_epoch(other.m_epoch)
{
}

AimdLimiter::Permit &AimdLimiter::Permit::operator=(Permit &&other) noexcept
{
    if (this != &other) {
        release();
        m_state = std::exchange(other.m_state, nullptr);
        m_epoch = other.m_epoch;
    }
    return *this;
}

AimdLimiter::Permit::~Permit()
{
    release();
}

void AimdLimiter::Permit::release()
{
    if (!m_state)
        return;
    {
        QMutexLocker lock(&m_state->mutex);
        --m_state->inFlight;
    }
    m_state.reset();
}

AimdLimiter::AimdLimiter(AimdPolicy policy)
    : m_state(std::make_shared<State>())
{
    m_state->ceiling = std::max(policy.ceiling, 1);
    m_state->limit = std::clamp(policy.initialLimit, 1, m_state->ceiling);
}

AimdLimiter::~AimdLimiter() = default;

AimdLimiter::Permit AimdLimiter::tryAcquire(Clock::time_point now)
{
    QMutexLocker lock(&m_state->mutex);
    if (now < m_state->blockedUntil || m_state->inFlight >= m_state->limit) {
        ++m_state->refused;
        return {};
    }
    ++m_state->inFlight;
    ++m_state->acquired;
    return Permit(m_state, m_state->epoch);
}

void AimdLimiter::onSuccess(const Permit &permit)
{
    if (!owns(permit))
        return;
    QMutexLocker lock(&m_state->mutex);
    // Grow only while the limit was actually being used (half or more in
    // flight): a quiet night proves nothing about capacity, and a limit that
    // climbed to the ceiling while idle would meet the morning burst with 429s.
    if (m_state->inFlight * 2 >= m_state->limit)
        m_state->limit = std::min(m_state->limit + 1, m_state->ceiling);
}

void AimdLimiter::onRateLimited(const Permit &permit, std::chrono::milliseconds retryAfter, Clock::time_point now)
{
    if (!owns(permit))
        return;
    QMutexLocker lock(&m_state->mutex);
    if (retryAfter > std::chrono::milliseconds::zero())
        m_state->blockUntil(now + retryAfter);
    if (permit.m_epoch != m_state->epoch)
        return;
    m_state->limit = std::max(m_state->limit / 2, 1);
    ++m_state->epoch;
    ++m_state->decreases;
}

void AimdLimiter::onRateLimitHeaders(int remainingRequests, std::chrono::milliseconds resetAfter, Clock::time_point now)
{
    if (remainingRequests > 0 || resetAfter <= std::chrono::milliseconds::zero())
        return;
    QMutexLocker lock(&m_state->mutex);
    m_state->blockUntil(now + resetAfter);
}

AimdSnapshot AimdLimiter::snapshot(Clock::time_point now) const
{
    QMutexLocker lock(&m_state->mutex);
    AimdSnapshot s;
    s.limit = m_state->limit;
    s.inFlight = m_state->inFlight;
    if (now < m_state->blockedUntil)
        s.blockedUntil = m_state->blockedUntil;
    s.acquired = m_state->acquired;
    s.refused = m_state->refused;
    s.decreases = m_state->decreases;
    return s;
}

} // namespace apex
