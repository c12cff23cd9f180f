#include "resampler.h"

#include <soxr.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace apex::audio {

struct Resampler::Private
{
    soxr_t soxr = nullptr;
    double ratio = 1.0;
    bool flushed = false;

    ~Private()
    {
        if (soxr)
            soxr_delete(soxr);
    }

    // soxr stops consuming input when the output buffer fills, so keep calling
    // until every input sample is taken and a call leaves room to spare.
    void run(const std::int16_t *input, std::size_t length, QVector<std::int16_t> &out)
    {
        std::size_t consumed = 0;
        for (;;) {
            const std::size_t remaining = length - consumed;
            const std::size_t capacity = std::size_t(std::ceil(double(remaining) * ratio)) + 256;
            const qsizetype start = out.size();
            out.resize(start + qsizetype(capacity));
            std::size_t inputDone = 0;
            std::size_t outputDone = 0;
            const soxr_error_t error = soxr_process(soxr, input ? input + consumed : nullptr, remaining,
                                                    input ? &inputDone : nullptr, out.data() + start,
                                                    capacity, &outputDone);
            out.resize(start + qsizetype(outputDone));
            if (error)
                return;
            consumed += inputDone;
            if (consumed >= length && outputDone < capacity)
                return;
        }
    }
};

Resampler::Resampler(int inputRateHz, int outputRateHz, Quality quality)
    : d(std::make_unique<Private>())
    , m_inputRateHz(inputRateHz)
    , m_outputRateHz(outputRateHz)
{
    if (inputRateHz <= 0 || outputRateHz <= 0)
        throw std::invalid_argument("Resampler: sample rates must be positive");
    d->ratio = double(outputRateHz) / double(inputRateHz);
    const unsigned long recipe = quality == Quality::Quick    ? SOXR_QQ
                                 : quality == Quality::Medium ? SOXR_MQ
                                                              : SOXR_HQ;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
    const soxr_quality_spec_t q = soxr_quality_spec(recipe, 0);
    soxr_error_t error = nullptr;
    d->soxr = soxr_create(double(inputRateHz), double(outputRateHz), 1, &error, &io, &q, nullptr);
    if (error || !d->soxr)
        throw std::runtime_error(std::string("Resampler: soxr_create failed: ") + (error ? error : "unknown"));
}

Resampler::~Resampler() = default;

QVector<std::int16_t> Resampler::process(std::span<const std::int16_t> input)
{
    QVector<std::int16_t> out;
    if (input.empty() || d->flushed)
        return out;
    if (m_inputRateHz == m_outputRateHz) {
        out = QVector<std::int16_t>(input.begin(), input.end());
        return out;
    }
    out.reserve(qsizetype(double(input.size()) * d->ratio) + 64);
    d->run(input.data(), input.size(), out);
    return out;
}

QVector<std::int16_t> Resampler::flush()
{
    QVector<std::int16_t> out;
    if (d->flushed || m_inputRateHz == m_outputRateHz)
        return out;
    d->flushed = true;
    // A null input tells soxr the stream has ended: it drains its filter delay.
    d->run(nullptr, 0, out);
    return out;
}

QVector<std::int16_t> Resampler::convert(std::span<const std::int16_t> input, int inputRateHz,
                                         int outputRateHz, Quality quality)
{
    Resampler resampler(inputRateHz, outputRateHz, quality);
    QVector<std::int16_t> out = resampler.process(input);
    out.append(resampler.flush());
    return out;
}

} // namespace apex::audio
