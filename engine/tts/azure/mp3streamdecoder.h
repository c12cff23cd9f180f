#pragma once

#include "tts/mulawstreamencoder.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>

namespace apex {

// MP3 bytes, as they arrive, to 8 kHz mu-law (libmpg123 in feed mode, then
// MulawStreamEncoder's resampler). The stream's rate and channel count are
// only known once libmpg123 has seen a frame header, and may change mid-stream
// (MPG123_NEW_FORMAT); each change rebuilds the resampler after flushing the
// old one. One instance per stream and thread; not copyable.
class Mp3StreamDecoder
{
public:
    Mp3StreamDecoder();
    ~Mp3StreamDecoder();
    Mp3StreamDecoder(const Mp3StreamDecoder &) = delete;
    Mp3StreamDecoder &operator=(const Mp3StreamDecoder &) = delete;

    // Mu-law for whatever whole MP3 frames the bytes so far complete; often
    // empty for the first call (a frame is ~72 ms at 16 kHz). Empty, with
    // hasError(), once the stream is undecodable; later calls do nothing.
    QByteArray feed(QByteArrayView mp3);
    // The resampler's tail; call once at the end of the stream.
    QByteArray finish();

    bool hasError() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }
    int sourceRateHz() const { return m_rateHz; } // 0 until the first frame
    int sourceChannels() const { return m_channels; }

private:
    QByteArray drain();

    struct Handle;
    std::unique_ptr<Handle> m_handle;
    std::unique_ptr<MulawStreamEncoder> m_encoder;
    QString m_error;
    int m_rateHz = 0;
    int m_channels = 0;
};

} // namespace apex
