#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace apex::audio {

// Cuts a byte stream arriving in chunks of any size into fixed-size frames
// (160 bytes = 20 ms of 8 kHz mu-law by default). Keeps the remainder between
// calls; flush() pads the last partial frame with the given fill byte.
class Framer
{
public:
    static constexpr int kMulawFrameBytes = 160; // 20 ms at 8 kHz, 1 byte per sample
    static constexpr char kMulawSilence = char(0xFF);

    explicit Framer(int frameBytes = kMulawFrameBytes);

    int frameBytes() const { return m_frameBytes; }
    int pendingBytes() const { return int(m_pending.size()); }

    QList<QByteArray> push(QByteArrayView chunk);
    // Returns the padded partial frame, or an empty array if nothing is pending.
    QByteArray flush(char fill = kMulawSilence);
    void clear() { m_pending.clear(); }

private:
    int m_frameBytes;
    QByteArray m_pending;
};

} // namespace apex::audio
