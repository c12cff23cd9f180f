#include "providers/circuitbreaker.h"

#include <QMutexLocker>

#include <algorithm>
#include <utility>

namespace apex {

CircuitBreaker::CircuitBreaker(BreakerPolicy policy)
    : m_policy{std::max(policy.failureThreshold, 1), std::max(policy.coolDown, std::chrono::milliseconds::zero())}
{
}

void CircuitBreaker::setTransitionListener(TransitionListener listener)
{
    QMutexLocker lock(&m_mutex);
    m_listener = std::move(listener);
}

Admission CircuitBreaker::admit(Clock::time_point now)
{
    QMutexLocker lock(&m_mutex);
    switch (m_state) {
    case BreakerState::Closed:
        return Admission::Allowed;
    case BreakerState::Open:
        if (now < m_openUntil)
            return Admission::Refused;
        transition(BreakerState::HalfOpen, now, {});
        m_probeOut = true;
        return Admission::Probe;
    case BreakerState::HalfOpen:
        // The slot is free again only when an earlier probe was abandoned.
        if (m_probeOut)
            return Admission::Refused;
        m_probeOut = true;
        return Admission::Probe;
    }
    return Admission::Refused;
}

void CircuitBreaker::recordSuccess(Admission admitted, Clock::time_point now)
{
    QMutexLocker lock(&m_mutex);
    if (isOutstandingProbe(admitted)) {
        m_probeOut = false;
        m_consecutiveFailures = 0;
        transition(BreakerState::Closed, now, {});
    } else if (m_state == BreakerState::Closed) {
        m_consecutiveFailures = 0;
    }
    // A straggler admitted before the breaker opened proves too little: only
    // the probe may close it, so the cool-down is not cut short by old news.
}

void CircuitBreaker::recordFailure(Admission admitted, FailureKind kind, const QString &detail, Clock::time_point now)
{
    QMutexLocker lock(&m_mutex);
    ++m_totalFailures;
    ++m_consecutiveFailures;
    m_lastError = detail.isEmpty() ? failureKindName(kind) : failureKindName(kind) + QStringLiteral(": ") + detail;

    if (isOutstandingProbe(admitted)) {
        m_probeOut = false;
        open(m_lastError, now);
    } else if (m_state == BreakerState::Closed
               && (kind == FailureKind::Unauthorized || m_consecutiveFailures >= m_policy.failureThreshold)) {
        open(m_lastError, now);
    }
    // Stragglers failing while Open or HalfOpen do not re-arm the cool-down:
    // they were sent before the breaker opened and describe that moment.
}

void CircuitBreaker::recordAbandoned(Admission admitted)
{
    QMutexLocker lock(&m_mutex);
    // A hang-up tells nothing about the provider; a probe that was abandoned
    // must not hold the half-open slot forever, or the breaker never closes.
    if (isOutstandingProbe(admitted))
        m_probeOut = false;
}

BreakerSnapshot CircuitBreaker::snapshot() const
{
    QMutexLocker lock(&m_mutex);
    BreakerSnapshot s;
    s.state = m_state;
    s.consecutiveFailures = m_consecutiveFailures;
    s.totalFailures = m_totalFailures;
    s.timesOpened = m_timesOpened;
    s.lastError = m_lastError;
    if (m_state == BreakerState::Open)
        s.nextProbeAt = m_openUntil;
    return s;
}

BreakerState CircuitBreaker::state() const
{
    QMutexLocker lock(&m_mutex);
    return m_state;
}

bool CircuitBreaker::isOutstandingProbe(Admission admitted) const
{
    return admitted == Admission::Probe && m_state == BreakerState::HalfOpen && m_probeOut;
}

void CircuitBreaker::open(const QString &reason, Clock::time_point now)
{
    m_openUntil = now + m_policy.coolDown;
    ++m_timesOpened;
    transition(BreakerState::Open, now, reason);
}

void CircuitBreaker::transition(BreakerState to, Clock::time_point now, const QString &reason)
{
    if (to == m_state)
        return;
    const BreakerTransition t{m_state, to, now, reason};
    m_state = to;
    if (m_listener)
        m_listener(t);
}

QString breakerStateName(BreakerState state)
{
    switch (state) {
    case BreakerState::Closed:
        return QStringLiteral("closed");
    case BreakerState::Open:
        return QStringLiteral("open");
    case BreakerState::HalfOpen:
        return QStringLiteral("half-open");
    }
    return QStringLiteral("unknown");
}

} // namespace apex
