#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace apex::http {

struct FramingLimits
{
    qsizetype maxRequestLineBytes = 4 * 1024;
    qsizetype maxHeaderBytes = 16 * 1024; // request line + headers + the blank line
    qsizetype maxHeaderCount = 64;
    qsizetype maxBodyBytes = 64 * 1024;
};

// Reads the bytes of one HTTP/1.1 connection alongside QHttpServer 6.4 and
// decides, before QHttpServer parses them, whether they may reach it at all.
// QHttpServer buffers any body whole, accepts any header size, lets a second
// Content-Length or a Content-Length beside chunked through, and parses bytes
// left after a request as a request of their own; so everything whose framing
// could be read two ways is refused here, and only requests framed one way
// (Content-Length, or no body) go on:
//
//   request line over maxRequestLineBytes             414
//   head over maxHeaderBytes, or over maxHeaderCount  431
//   Content-Length over maxBodyBytes                  413
//   Transfer-Encoding (no chunked uploads here)       411, 400 beside Content-Length
//   two Content-Length or Host headers, a value that
//   is not digits, bare LF, obs-fold, space before
//   ':', control bytes, bad version, no Host in 1.1   400
//   bytes after a complete request in the same read   400 (pipelining: QHttpServer 6.4
//                                                          loses the first request)
//   CONNECT, an Upgrade other than websocket          405 / 400
//
// A GET that asks for a WebSocket ends the HTTP part of the connection:
// feed() answers Upgraded and the rest belongs to the WebSocket.
//
// Pure and allocation-bounded (at most maxHeaderBytes are kept), so it is
// fuzzed on its own.
class RequestFraming
{
public:
    enum class Phase { Head, Body, Upgraded, Rejected };

    struct Verdict
    {
        enum class Kind { Continue, Upgraded, Rejected };
        Kind kind = Kind::Continue;
        int status = 0;    // Rejected: the HTTP status to answer with
        QByteArray reason; // Rejected: one line for the response and the log
    };

    explicit RequestFraming(FramingLimits limits = {});

    // The bytes of one read from the socket, exactly as they came. Bytes left
    // behind a complete request within the same read mean the peer pipelined.
    // Once Upgraded or Rejected, further bytes are ignored and the same verdict
    // is returned again.
    Verdict feed(QByteArrayView bytes);

    Phase phase() const { return m_phase; }
    // Requests whose head and body have fully arrived.
    int completedRequests() const { return m_completed; }
    // Nothing of a next request has arrived yet (the idle state of keep-alive).
    bool betweenRequests() const { return m_phase == Phase::Head && m_head.isEmpty(); }

    static QByteArray reasonPhrase(int status);

private:
    Verdict reject(int status, const char *reason);
    Verdict parseHead(qsizetype headEnd);
    Verdict finishRequest();

    FramingLimits m_limits;
    Phase m_phase = Phase::Head;
    QByteArray m_head; // the head read so far (request line onwards)
    qint64 m_bodyLeft = 0;
    bool m_upgrade = false;
    int m_completed = 0;
    Verdict m_final;
};

} // namespace apex::http
