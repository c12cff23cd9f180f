#include "http/descriptorlimit.h"

#include "observability/logging.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace apex {

namespace {

// Redis, log files, the providers' pools, worker pipes: descriptors the engine
// needs whatever the callers do.
constexpr std::uint64_t kReserved = 64;
constexpr std::uint64_t kDescriptorsPerConnection = 4;

DescriptorLimit read()
{
    DescriptorLimit limit;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return limit;
    limit.unlimited = rl.rlim_cur == RLIM_INFINITY;
    limit.soft = limit.unlimited ? UINT64_MAX : std::uint64_t(rl.rlim_cur);
    limit.hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : std::uint64_t(rl.rlim_max);
    return limit;
}

} // namespace

DescriptorLimit DescriptorLimit::current()
{
    return read();
}

DescriptorLimit DescriptorLimit::raiseToHard()
{
    static std::once_flag once;
    static DescriptorLimit result;
    std::call_once(once, [] {
        auto log = log::get("http");
        rlimit rl{};
        if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
            log->warn("call=- tenant=- cannot read the descriptor limit: {}", std::strerror(errno));
            return;
        }
        const rlim_t before = rl.rlim_cur;
        if (rl.rlim_cur != rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
                log->warn("call=- tenant=- cannot raise the descriptor limit from {} to {}: {}", before, rl.rlim_max,
                          std::strerror(errno));
        }
        result = read();
        result.raised = result.soft != std::uint64_t(before);
        log->info("call=- tenant=- descriptor limit {}{} (hard {})", result.unlimited ? std::string("unlimited") : std::to_string(result.soft),
                  result.raised ? fmt::format(", raised from {}", before) : std::string(), result.hard);
    });
    return result.soft == 0 ? read() : result;
}

int DescriptorLimit::connectionBudget() const
{
    if (soft == 0 || unlimited)
        return 1 << 30;
    const std::uint64_t usable = soft > kReserved ? soft - kReserved : 0;
    return int(std::clamp<std::uint64_t>(usable / kDescriptorsPerConnection, 16, 1u << 30));
}

} // namespace apex
