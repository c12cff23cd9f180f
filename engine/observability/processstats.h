#pragma once

#include <cstdint>

namespace apex {

// What this process costs the box, for /stats and the load generator's
// per-call figures: CPU time used so far (user + system, all threads) and the
// resident set now.
struct ProcessStats
{
    double cpuSeconds = 0;
    std::int64_t residentBytes = 0;
    std::int64_t peakResidentBytes = 0;
    int threads = 0;

    static ProcessStats sample();
};

} // namespace apex
