#pragma once

#include <chrono>
#include <cstdint>

namespace apex {

// The one monotonic clock every trace stamp and pacing deadline uses.
inline std::int64_t monotonicNowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

inline double nsToMs(std::int64_t ns) { return double(ns) / 1e6; }

} // namespace apex
