#include "llm/openai/sseparser.h"

#include <algorithm>
#include <utility>

namespace apex {

SseParser::SseParser(qsizetype maxBytes)
    : m_maxBytes(maxBytes > 0 ? maxBytes : kDefaultMaxBytes)
{
}

void SseParser::reset()
{
    m_line.clear();
    m_data.clear();
    m_eventType.clear();
    m_lastId.clear();
    m_hasData = false;
    m_skipLf = false;
    m_atStreamStart = true;
    m_retryMs = -1;
    m_error.clear();
}

void SseParser::fail(const QString &reason)
{
    m_error = reason;
    m_line.clear();
    m_data.clear();
    m_hasData = false;
}

QList<SseEvent> SseParser::feed(QByteArrayView bytes)
{
    QList<SseEvent> out;
    if (hasError())
        return out;
    const char *p = bytes.data();
    const char *const end = p + bytes.size();
    if (m_skipLf && p != end) {
        if (*p == '\n')
            ++p;
        m_skipLf = false;
    }
    while (p != end) {
        const char *eol = std::find_if(p, end, [](char c) { return c == '\n' || c == '\r'; });
        const qsizetype segment = eol - p;
        if (m_line.size() + segment > m_maxBytes) {
            fail(QStringLiteral("SSE line longer than %1 bytes").arg(m_maxBytes));
            return out;
        }
        if (eol == end) {
            m_line.append(p, segment);
            break;
        }
        // Most lines arrive whole within one read: parse them in place, no copy.
        if (m_line.isEmpty()) {
            processLine(QByteArrayView(p, segment), out);
        } else {
            m_line.append(p, segment);
            processLine(m_line, out);
            m_line.clear();
        }
        if (hasError())
            return out;
        p = eol + 1;
        if (*eol == '\r') {
            if (p == end)
                m_skipLf = true; // the '\n' of a "\r\n" may be the next read's first byte
            else if (*p == '\n')
                ++p;
        }
    }
    return out;
}

QList<SseEvent> SseParser::finish()
{
    QList<SseEvent> out;
    if (hasError())
        return out;
    if (!m_line.isEmpty()) {
        const QByteArray line = std::exchange(m_line, {});
        processLine(line, out);
    }
    if (!hasError())
        dispatch(out);
    m_skipLf = false;
    return out;
}

void SseParser::processLine(QByteArrayView line, QList<SseEvent> &out)
{
    if (m_atStreamStart) {
        m_atStreamStart = false;
        if (line.startsWith("\xEF\xBB\xBF"))
            line = line.sliced(3);
    }
    if (line.isEmpty()) {
        dispatch(out);
        return;
    }
    if (line.front() == ':')
        return;

    QByteArrayView field = line;
    QByteArrayView value;
    const qsizetype colon = line.indexOf(':');
    if (colon >= 0) {
        field = line.first(colon);
        value = line.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
    }

    if (field == "data") {
        if (m_data.size() + value.size() + 1 > m_maxBytes) {
            fail(QStringLiteral("SSE event data longer than %1 bytes").arg(m_maxBytes));
            return;
        }
        if (m_hasData)
            m_data.append('\n');
        m_data.append(value);
        m_hasData = true;
    } else if (field == "event") {
        m_eventType = value.toByteArray();
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_lastId = value.toByteArray();
    } else if (field == "retry") {
        const bool allDigits = !value.isEmpty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (allDigits && value.size() <= 15)
            m_retryMs = value.toLongLong();
    }
    // Any other field is ignored, as the spec requires.
}

void SseParser::dispatch(QList<SseEvent> &out)
{
    if (!m_hasData) {
        // A blank line with no data (e.g. after an "event:" alone) dispatches nothing.
        m_eventType.clear();
        return;
    }
    out.append(SseEvent{std::exchange(m_data, {}), std::exchange(m_eventType, {}), m_lastId});
    m_hasData = false;
}

} // namespace apex
