#pragma once

#include <cstdint>

namespace apex {

// RLIMIT_NOFILE, raised once per process to its hard limit: every call holds a
// socket to Twilio and up to three to providers, and the distribution default
// soft limit (1024) runs out near 250 calls with nothing said about it.
struct DescriptorLimit
{
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
    bool raised = false;   // this call changed the soft limit
    bool unlimited = false;

    // Idempotent; the first call does the work and logs the outcome.
    static DescriptorLimit raiseToHard();
    static DescriptorLimit current();

    // Inbound connections the limit can carry while each one's call also holds
    // provider connections: (soft - reserve) / 4, never below 16.
    int connectionBudget() const;
};

} // namespace apex
