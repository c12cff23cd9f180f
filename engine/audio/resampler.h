#pragma once

#include <QVector>
#include <cstdint>
#include <memory>
#include <span>

namespace apex::audio {

// Streaming mono int16 sample-rate converter on libsoxr. Stateful: feed chunks
// of any length in order, call flush() once at the end of a stream.
// One instance belongs to one stream and one thread. Rates must be positive
// (std::invalid_argument otherwise); equal rates pass samples through.
class Resampler
{
public:
    enum class Quality { Quick, Medium, High };

    Resampler(int inputRateHz, int outputRateHz, Quality quality = Quality::Medium);
    ~Resampler();
    Resampler(const Resampler &) = delete;
    Resampler &operator=(const Resampler &) = delete;

    int inputRateHz() const { return m_inputRateHz; }
    int outputRateHz() const { return m_outputRateHz; }

    QVector<std::int16_t> process(std::span<const std::int16_t> input);
    QVector<std::int16_t> flush();

    // One-shot conversion of a whole buffer.
    static QVector<std::int16_t> convert(std::span<const std::int16_t> input, int inputRateHz,
                                         int outputRateHz, Quality quality = Quality::Medium);

private:
    struct Private;
    std::unique_ptr<Private> d;
    int m_inputRateHz;
    int m_outputRateHz;
};

} // namespace apex::audio
