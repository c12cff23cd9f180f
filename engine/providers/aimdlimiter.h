#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace apex {

struct AimdPolicy
{
    int initialLimit = 8;
    int ceiling = 64; // the floor is always 1: one request at a time still answers calls
};

struct AimdSnapshot
{
    int limit = 1;
    int inFlight = 0; // may exceed limit for a while after a halving
    std::optional<std::chrono::steady_clock::time_point> blockedUntil; // only while in the future
    std::uint64_t acquired = 0;
    std::uint64_t refused = 0;
    std::uint64_t decreases = 0;
};

// The global cap on concurrent LLM requests, learnt from the provider: halve
// on 429, +1 on success (AIMD), never below 1 nor above the ceiling.
//
// There is no waiting: tryAcquire() answers at once and a refused turn goes to
// its fallback (the FAQ responder). A phone turn has about a second to start
// speaking; a queue would spend that budget and still need a timer owner for
// its deadlines, which this pure-logic class does not have.
//
// Thread-safe; every method takes a short mutex and never blocks otherwise.
class AimdLimiter
{
    struct State;

public:
    using Clock = std::chrono::steady_clock;

    // One request's slot. Move-only; released by its destructor or release().
    // Belongs to one call at a time (not itself thread-safe), and may outlive
    // the limiter: it shares the limiter's counters, so a call still holding
    // one at shutdown does not touch freed memory.
    class [[nodiscard]] Permit
    {
    public:
        Permit() = default;
        Permit(Permit &&other) noexcept;
        Permit &operator=(Permit &&other) noexcept;
        Permit(const Permit &) = delete;
        Permit &operator=(const Permit &) = delete;
        ~Permit();

        explicit operator bool() const { return m_state != nullptr; }
        void release();

    private:
        friend class AimdLimiter;
        Permit(std::shared_ptr<State> state, std::uint64_t epoch);

        std::shared_ptr<State> m_state;
        std::uint64_t m_epoch = 0; // the decrease epoch it was sent in
    };

    explicit AimdLimiter(AimdPolicy policy = {});
    ~AimdLimiter();

    AimdLimiter(const AimdLimiter &) = delete;
    AimdLimiter &operator=(const AimdLimiter &) = delete;

    // An empty permit when the limit is reached or a retry-after is pending.
    Permit tryAcquire(Clock::time_point now);

    // Report outcomes while still holding the permit (one released or from
    // another limiter is ignored): growth looks at how many are in flight, and
    // halving at the epoch the permit was taken in.
    void onSuccess(const Permit &permit);
    // Halves at most once per decrease epoch: requests that were already in
    // flight when the first 429 halved the limit were sent under the old limit
    // and say nothing new, so a burst of their 429s halves once, not N times.
    // Any retry-after blocks every acquisition until it has passed.
    void onRateLimited(const Permit &permit, std::chrono::milliseconds retryAfter, Clock::time_point now);
    // x-ratelimit-remaining-requests = 0: hold until x-ratelimit-reset-requests
    // rather than spend a request on a certain 429.
    void onRateLimitHeaders(int remainingRequests, std::chrono::milliseconds resetAfter, Clock::time_point now);

    AimdSnapshot snapshot(Clock::time_point now) const;

private:
    bool owns(const Permit &permit) const { return permit.m_state == m_state; }

    std::shared_ptr<State> m_state;
};

} // namespace apex
