#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace apex {

// Cumulative-bucket latency histogram in milliseconds, as Prometheus expects
// (le buckets, sum, count). Cheap enough to record every turn's every stage.
class LatencyHistogram
{
public:
    static constexpr std::array<double, 12> kBucketsMs{5, 10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2500, 5000};

    void record(double ms);
    std::uint64_t count() const { return m_count; }
    double sumMs() const { return m_sumMs; }
    // Observations <= kBucketsMs[i] (cumulative).
    std::uint64_t cumulative(size_t bucket) const;

private:
    std::array<std::uint64_t, kBucketsMs.size()> m_buckets{};
    std::uint64_t m_count = 0;
    double m_sumMs = 0;
};

} // namespace apex
