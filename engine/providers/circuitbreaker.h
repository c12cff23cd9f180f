#pragma once

// What opens a breaker, and what does not.
//
// A failure (FailureKind) is the provider letting us down: a connect error, a
// stall or timeout past the provider's deadline, a 5xx, a 429 that is still
// there after our retries, a protocol error (malformed reply, broken stream).
// 401/403 opens the breaker at once: a key will not heal by retrying.
//
// Not a failure, reported with recordAbandoned(): the caller hanging up, a
// barge-in cancelling the reply, our own deadline being reached because the
// turn was already answered by someone else. Those say nothing about the
// provider, and counting them would open breakers on busy, healthy days.

#include "observability/providerfailure.h"

#include <QMutex>
#include <QString>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace apex {

enum class BreakerState { Closed, Open, HalfOpen };

// How a call was let through. A result must be reported with the admission it
// got, so that a straggler admitted before the breaker opened cannot decide
// the half-open probe's verdict.
enum class Admission { Refused, Allowed, Probe };

inline bool isAdmitted(Admission admission) { return admission != Admission::Refused; }

struct BreakerPolicy
{
    int failureThreshold = 5; // consecutive failures that open the breaker
    std::chrono::milliseconds coolDown{30000}; // Open for this long before one probe
};

struct BreakerSnapshot
{
    BreakerState state = BreakerState::Closed;
    int consecutiveFailures = 0;
    std::uint64_t totalFailures = 0;
    std::uint64_t timesOpened = 0;
    QString lastError; // "<kind>: <detail>" of the latest failure, kept after re-closing
    // When the next probe may go: set while Open, empty otherwise (a half-open
    // breaker with its probe out waits for the probe, not for the clock).
    std::optional<std::chrono::steady_clock::time_point> nextProbeAt;
};

struct BreakerTransition
{
    BreakerState from = BreakerState::Closed;
    BreakerState to = BreakerState::Closed;
    std::chrono::steady_clock::time_point at;
    QString reason; // the failure that opened it, or empty
};

// One provider endpoint's breaker, shared by every call on every engine
// thread. Each method holds a mutex for a few comparisons only; time is always
// passed in, so tests and replays are deterministic.
class CircuitBreaker
{
public:
    using Clock = std::chrono::steady_clock;
    // Called on the thread that caused the transition, under the breaker's lock
    // so transitions arrive in order: it must be quick and must not call back
    // into this breaker. A QObject that wants it on its own thread queues it.
    using TransitionListener = std::function<void(const BreakerTransition &)>;

    explicit CircuitBreaker(BreakerPolicy policy);

    CircuitBreaker(const CircuitBreaker &) = delete;
    CircuitBreaker &operator=(const CircuitBreaker &) = delete;

    BreakerPolicy policy() const { return m_policy; }
    void setTransitionListener(TransitionListener listener);

    // Refused costs the caller nothing: it goes straight to its fallback.
    [[nodiscard]] Admission admit(Clock::time_point now);

    // Every admitted call reports exactly one of these three.
    void recordSuccess(Admission admitted, Clock::time_point now);
    void recordFailure(Admission admitted, FailureKind kind, const QString &detail, Clock::time_point now);
    void recordAbandoned(Admission admitted);

    BreakerSnapshot snapshot() const;
    BreakerState state() const;

private:
    bool isOutstandingProbe(Admission admitted) const;
    void open(const QString &reason, Clock::time_point now);
    void transition(BreakerState to, Clock::time_point now, const QString &reason);

    const BreakerPolicy m_policy;
    mutable QMutex m_mutex;
    TransitionListener m_listener;
    BreakerState m_state = BreakerState::Closed;
    bool m_probeOut = false;
    int m_consecutiveFailures = 0;
    std::uint64_t m_totalFailures = 0;
    std::uint64_t m_timesOpened = 0;
    QString m_lastError;
    Clock::time_point m_openUntil;
};

// Stable names for logs and /metrics labels.
QString breakerStateName(BreakerState state);

} // namespace apex
