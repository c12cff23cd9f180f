#include "observability/latencyhistogram.h"

namespace apex {

void LatencyHistogram::record(double ms)
{
    ++m_count;
    m_sumMs += ms;
    for (size_t i = 0; i < kBucketsMs.size(); ++i) {
        if (ms <= kBucketsMs[i]) {
            ++m_buckets[i];
            break;
        }
    }
}

std::uint64_t LatencyHistogram::cumulative(size_t bucket) const
{
    std::uint64_t total = 0;
    for (size_t i = 0; i <= bucket && i < m_buckets.size(); ++i)
        total += m_buckets[i];
    return total;
}

} // namespace apex
