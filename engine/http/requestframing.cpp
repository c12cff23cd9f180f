#include "http/requestframing.h"

#include <QList>

#include <algorithm>

namespace apex::http {

namespace {

constexpr QByteArrayView kHeadEnd("\r\n\r\n");
constexpr qsizetype kMaxContentLengthDigits = 15; // beyond any limit, far from overflow

bool isTchar(char c)
{
    // RFC 9110 §5.6.2 token characters.
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTchar);
}

QByteArrayView trimmedOws(QByteArrayView text)
{
    while (!text.isEmpty() && (text.front() == ' ' || text.front() == '\t'))
        text = text.sliced(1);
    while (!text.isEmpty() && (text.back() == ' ' || text.back() == '\t'))
        text.chop(1);
    return text;
}

bool equalsNoCase(QByteArrayView a, QByteArrayView b)
{
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

// "keep-alive, Upgrade" holds the token "upgrade".
bool listHasToken(QByteArrayView list, QByteArrayView token)
{
    for (const QByteArray &item : list.toByteArray().split(',')) {
        if (equalsNoCase(trimmedOws(item), token))
            return true;
    }
    return false;
}

} // namespace

RequestFraming::RequestFraming(FramingLimits limits)
    : m_limits(limits)
{
}

QByteArray RequestFraming::reasonPhrase(int status)
{
    switch (status) {
    case 400: return QByteArrayLiteral("Bad Request");
    case 403: return QByteArrayLiteral("Forbidden");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 411: return QByteArrayLiteral("Length Required");
    case 413: return QByteArrayLiteral("Content Too Large");
    case 414: return QByteArrayLiteral("URI Too Long");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 503: return QByteArrayLiteral("Service Unavailable");
    case 505: return QByteArrayLiteral("HTTP Version Not Supported");
    default: return QByteArrayLiteral("Error");
    }
}

RequestFraming::Verdict RequestFraming::reject(int status, const char *reason)
{
    m_phase = Phase::Rejected;
    m_head.clear();
    m_final = Verdict{Verdict::Kind::Rejected, status, QByteArray(reason)};
    return m_final;
}

RequestFraming::Verdict RequestFraming::feed(QByteArrayView bytes)
{
    if (m_phase == Phase::Upgraded || m_phase == Phase::Rejected)
        return m_final;

    qsizetype pos = 0;
    while (pos < bytes.size()) {
        if (m_phase == Phase::Body) {
            const qint64 take = std::min<qint64>(m_bodyLeft, bytes.size() - pos);
            pos += take;
            m_bodyLeft -= take;
            if (m_bodyLeft == 0) {
                if (Verdict v = finishRequest(); v.kind != Verdict::Kind::Continue)
                    return v;
                if (pos < bytes.size())
                    return reject(400, "pipelined request (send one request at a time)");
            }
            continue;
        }

        if (m_head.isEmpty()) {
            // RFC 9112 §2.2: empty lines before a request line are ignored.
            while (pos < bytes.size() && (bytes[pos] == '\r' || bytes[pos] == '\n'))
                ++pos;
            if (pos == bytes.size())
                break;
        }

        // Keep no more than the limit plus one byte: enough to know it was exceeded.
        const qsizetype before = m_head.size();
        const qsizetype room = m_limits.maxHeaderBytes + 1 - before;
        const qsizetype take = std::min(room, bytes.size() - pos);
        m_head.append(bytes.sliced(pos, take));

        const qsizetype end = m_head.indexOf(kHeadEnd, std::max<qsizetype>(0, before - 3));
        // Bare LF ends a line for some parsers and not for others: refuse it
        // (in the head only: what follows it is body).
        const qsizetype scanEnd = end < 0 ? m_head.size() : end + kHeadEnd.size();
        for (qsizetype i = std::max<qsizetype>(before, 1); i < scanEnd; ++i) {
            if (m_head.at(i) == '\n' && m_head.at(i - 1) != '\r')
                return reject(400, "bare LF in request head (lines must end in CRLF)");
        }
        if (end < 0) {
            const qsizetype lineEnd = m_head.indexOf("\r\n");
            if ((lineEnd < 0 && m_head.size() > m_limits.maxRequestLineBytes) || lineEnd > m_limits.maxRequestLineBytes)
                return reject(414, "request line too long");
            if (m_head.size() > m_limits.maxHeaderBytes)
                return reject(431, "request head too large");
            pos += take;
            continue;
        }

        const qsizetype headEnd = end + kHeadEnd.size();
        if (headEnd > m_limits.maxHeaderBytes)
            return reject(431, "request head too large");
        pos += headEnd - before;
        m_head.truncate(headEnd);
        if (Verdict v = parseHead(headEnd); v.kind != Verdict::Kind::Continue)
            return v;
        if (m_phase == Phase::Head && pos < bytes.size())
            return reject(400, "pipelined request (send one request at a time)");
    }
    return {};
}

RequestFraming::Verdict RequestFraming::parseHead(qsizetype headEnd)
{
    const QList<QByteArrayView> lines = [&] {
        QList<QByteArrayView> out;
        const QByteArrayView head = QByteArrayView(m_head).first(headEnd - kHeadEnd.size());
        qsizetype start = 0;
        while (start <= head.size()) {
            qsizetype crlf = head.indexOf(QByteArrayView("\r\n"), start);
            if (crlf < 0)
                crlf = head.size();
            out.append(head.sliced(start, crlf - start));
            start = crlf + 2;
        }
        return out;
    }();

    // Request line: method SP target SP version, nothing else.
    const QByteArrayView requestLine = lines.front();
    if (requestLine.size() > m_limits.maxRequestLineBytes)
        return reject(414, "request line too long");
    const qsizetype sp1 = requestLine.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 <= sp1 + 1 || requestLine.indexOf(' ', sp2 + 1) >= 0)
        return reject(400, "malformed request line");
    const QByteArrayView method = requestLine.first(sp1);
    const QByteArrayView target = requestLine.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = requestLine.sliced(sp2 + 1);
    if (!isToken(method))
        return reject(400, "malformed method");
    for (const char c : target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F)
            return reject(400, "request target with control, space or non-ASCII bytes");
    }
    const bool http11 = version == QByteArrayView("HTTP/1.1");
    if (!http11 && version != QByteArrayView("HTTP/1.0")) {
        const bool looksLikeVersion = version.size() == 8 && version.startsWith("HTTP/") && version.at(6) == '.';
        return looksLikeVersion ? reject(505, "only HTTP/1.0 and HTTP/1.1 are spoken here")
                                : reject(400, "malformed HTTP version");
    }
    if (method == QByteArrayView("CONNECT"))
        return reject(405, "CONNECT is not supported");

    if (lines.size() - 1 > m_limits.maxHeaderCount)
        return reject(431, "too many header fields");

    int contentLengths = 0;
    int hosts = 0;
    qint64 contentLength = 0;
    bool transferEncoding = false;
    bool upgradeHeader = false;
    bool websocket = false;
    bool connectionUpgrade = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArrayView line = lines.at(i);
        if (line.isEmpty() || line.front() == ' ' || line.front() == '\t')
            return reject(400, "folded header line (obs-fold)");
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return reject(400, "header line without a name");
        const QByteArrayView name = line.first(colon);
        if (!isToken(name))
            return reject(400, "malformed header name (no space before ':')");
        const QByteArrayView value = trimmedOws(line.sliced(colon + 1));
        for (const char c : value) {
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7F)
                return reject(400, "control byte in a header value");
        }
        if (equalsNoCase(name, "content-length")) {
            if (++contentLengths > 1)
                return reject(400, "more than one Content-Length");
            if (value.isEmpty() || value.size() > kMaxContentLengthDigits
                || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return reject(400, "Content-Length is not a number");
            contentLength = value.toByteArray().toLongLong();
        } else if (equalsNoCase(name, "transfer-encoding")) {
            transferEncoding = true;
        } else if (equalsNoCase(name, "host")) {
            if (++hosts > 1)
                return reject(400, "more than one Host");
        } else if (equalsNoCase(name, "upgrade")) {
            upgradeHeader = true;
            websocket = listHasToken(value, "websocket");
        } else if (equalsNoCase(name, "connection")) {
            connectionUpgrade = connectionUpgrade || listHasToken(value, "upgrade");
        }
    }

    if (transferEncoding && contentLengths > 0)
        return reject(400, "Content-Length together with Transfer-Encoding");
    if (transferEncoding)
        return reject(411, "Transfer-Encoding is not accepted; send a Content-Length");
    if (http11 && hosts == 0)
        return reject(400, "HTTP/1.1 request without Host");
    if (contentLength > m_limits.maxBodyBytes)
        return reject(413, "request body too large");

    // The rule QHttpServer's parser applies: Upgrade plus "Connection: upgrade".
    if (upgradeHeader && connectionUpgrade) {
        if (method != QByteArrayView("GET") || !websocket || contentLength > 0)
            return reject(400, "only a body-less GET may upgrade, and only to websocket");
        m_phase = Phase::Upgraded;
        m_head.clear();
        m_final = Verdict{Verdict::Kind::Upgraded, 0, {}};
        return m_final;
    }

    m_head.clear();
    if (contentLength > 0) {
        m_phase = Phase::Body;
        m_bodyLeft = contentLength;
        return {};
    }
    return finishRequest();
}

RequestFraming::Verdict RequestFraming::finishRequest()
{
    ++m_completed;
    m_phase = Phase::Head;
    m_head.clear();
    return {};
}

} // namespace apex::http
