#include "framer.h"

#include <algorithm>

namespace apex::audio {

Framer::Framer(int frameBytes)
    : m_frameBytes(std::max(1, frameBytes))
{
}

QList<QByteArray> Framer::push(QByteArrayView chunk)
{
    QList<QByteArray> frames;
    qsizetype offset = 0;
    if (!m_pending.isEmpty()) {
        const qsizetype take = std::min<qsizetype>(m_frameBytes - m_pending.size(), chunk.size());
        m_pending.append(chunk.data(), take);
        offset = take;
        if (m_pending.size() < m_frameBytes)
            return frames;
        frames.append(m_pending);
        m_pending.clear();
    }
    frames.reserve(frames.size() + (chunk.size() - offset) / m_frameBytes);
    while (chunk.size() - offset >= m_frameBytes) {
        frames.append(QByteArray(chunk.data() + offset, m_frameBytes));
        offset += m_frameBytes;
    }
    if (offset < chunk.size())
        m_pending.append(chunk.data() + offset, chunk.size() - offset);
    return frames;
}

QByteArray Framer::flush(char fill)
{
    if (m_pending.isEmpty())
        return {};
    QByteArray frame = m_pending;
    frame.append(m_frameBytes - frame.size(), fill);
    m_pending.clear();
    return frame;
}

} // namespace apex::audio
