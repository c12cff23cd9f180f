#include "tts/azure/mp3streamdecoder.h"

#include <mpg123.h>

#include <QVarLengthArray>

#include <mutex>
#include <vector>

namespace apex {

namespace {

// Before 1.27 mpg123_init() had to run once, before any handle, and was not
// thread-safe; afterwards it does nothing. Cheap to keep for older systems.
void initLibrary()
{
    static std::once_flag once;
    std::call_once(once, [] { mpg123_init(); });
}

} // namespace

struct Mp3StreamDecoder::Handle
{
    mpg123_handle *mh = nullptr;
    ~Handle()
    {
        if (mh) {
            mpg123_close(mh);
            mpg123_delete(mh);
        }
    }
};

Mp3StreamDecoder::Mp3StreamDecoder()
    : m_handle(std::make_unique<Handle>())
{
    initLibrary();
    int err = MPG123_OK;
    m_handle->mh = mpg123_new(nullptr, &err);
    if (!m_handle->mh) {
        m_error = QStringLiteral("mpg123_new failed: %1").arg(QString::fromUtf8(mpg123_plain_strerror(err)));
        return;
    }
    mpg123_handle *mh = m_handle->mh;
    // Quiet: libmpg123 otherwise prints stream warnings to stderr, outside our
    // logging. Mono mix: a stereo stream still gives one channel, averaged.
    mpg123_param(mh, MPG123_FLAGS, MPG123_QUIET | MPG123_MONO_MIX, 0.0);
    // Signed 16-bit at the stream's own rate, mono or stereo: libmpg123's own
    // resampling is crude, so rate conversion is left to soxr.
    mpg123_format_none(mh);
    const long *rates = nullptr;
    size_t rateCount = 0;
    mpg123_rates(&rates, &rateCount);
    for (size_t i = 0; i < rateCount; ++i)
        mpg123_format(mh, rates[i], MPG123_MONO | MPG123_STEREO, MPG123_ENC_SIGNED_16);
    if (const int rc = mpg123_open_feed(mh); rc != MPG123_OK)
        m_error = QStringLiteral("mpg123_open_feed failed: %1").arg(QString::fromUtf8(mpg123_strerror(mh)));
}

Mp3StreamDecoder::~Mp3StreamDecoder() = default;

QByteArray Mp3StreamDecoder::feed(QByteArrayView mp3)
{
    if (hasError() || mp3.isEmpty())
        return {};
    if (mpg123_feed(m_handle->mh, reinterpret_cast<const unsigned char *>(mp3.data()), size_t(mp3.size())) != MPG123_OK) {
        m_error = QStringLiteral("MP3 feed failed: %1").arg(QString::fromUtf8(mpg123_strerror(m_handle->mh)));
        return {};
    }
    return drain();
}

QByteArray Mp3StreamDecoder::drain()
{
    QByteArray mulaw;
    std::vector<std::int16_t> pcm(4608); // one MPEG-1 layer III stereo frame of samples
    for (;;) {
        size_t done = 0;
        const int rc = mpg123_read(m_handle->mh, reinterpret_cast<unsigned char *>(pcm.data()),
                                   pcm.size() * sizeof(std::int16_t), &done);
        if (rc == MPG123_NEW_FORMAT) {
            long rate = 0;
            int channels = 0, encoding = 0;
            mpg123_getformat(m_handle->mh, &rate, &channels, &encoding);
            if (encoding != MPG123_ENC_SIGNED_16 || channels < 1 || rate <= 0) {
                m_error = QStringLiteral("MP3 stream has an unusable format (%1 Hz, %2 channels)").arg(rate).arg(channels);
                return mulaw;
            }
            // A rate change mid-stream: what the old resampler holds belongs
            // to the old rate, so it is flushed before the new one starts.
            if (m_encoder && rate != m_rateHz)
                mulaw += m_encoder->finish();
            if (!m_encoder || rate != m_rateHz)
                m_encoder = std::make_unique<MulawStreamEncoder>();
            m_rateHz = int(rate);
            m_channels = channels;
            continue;
        }
        if (rc != MPG123_OK && rc != MPG123_NEED_MORE && rc != MPG123_DONE) {
            m_error = QStringLiteral("MP3 decode failed: %1").arg(QString::fromUtf8(mpg123_strerror(m_handle->mh)));
            return mulaw;
        }
        const size_t frames = done / sizeof(std::int16_t) / size_t(std::max(1, m_channels));
        if (frames > 0 && m_encoder) {
            if (m_channels == 1) {
                mulaw += m_encoder->push(std::span<const std::int16_t>(pcm.data(), frames), m_rateHz);
            } else {
                // MPG123_MONO_MIX normally prevents this; kept for builds that ignore it.
                QVarLengthArray<std::int16_t, 2304> mono(static_cast<qsizetype>(frames));
                for (size_t f = 0; f < frames; ++f) {
                    int sum = 0;
                    for (int c = 0; c < m_channels; ++c)
                        sum += pcm[f * size_t(m_channels) + size_t(c)];
                    mono[qsizetype(f)] = std::int16_t(sum / m_channels);
                }
                mulaw += m_encoder->push(std::span<const std::int16_t>(mono.data(), frames), m_rateHz);
            }
        }
        if (rc == MPG123_NEED_MORE || rc == MPG123_DONE || (rc == MPG123_OK && done == 0))
            return mulaw;
    }
}

QByteArray Mp3StreamDecoder::finish()
{
    if (!m_encoder)
        return {};
    QByteArray tail = hasError() ? QByteArray() : drain();
    tail += m_encoder->finish();
    m_encoder.reset();
    return tail;
}

} // namespace apex
