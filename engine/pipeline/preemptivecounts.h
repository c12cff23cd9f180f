#pragma once

#include <cstdint>

namespace apex {

// Replies asked for before the endpointer spoke: adopted (the final said the
// same) or cancelled (the caller went on, or the final differed).
struct PreemptiveCounts
{
    std::uint64_t adopted = 0;
    std::uint64_t cancelled = 0;
    PreemptiveCounts &operator+=(const PreemptiveCounts &other)
    {
        adopted += other.adopted;
        cancelled += other.cancelled;
        return *this;
    }
};

} // namespace apex
