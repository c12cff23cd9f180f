#include "http/connectionguard.h"

#include "http/connectionlimiter.h"
#include "observability/logthrottle.h"
#include "tenancy/networklimits.h"

#include <QTcpSocket>

#include <sys/socket.h>

namespace apex {

namespace {

http::FramingLimits framingLimits(const NetworkLimits &limits)
{
    return {limits.maxRequestLineBytes, limits.maxHeaderBytes, limits.maxHeaderCount, limits.maxBodyBytes};
}

// Room for one whole request: Qt stops reading from the kernel beyond it, so a
// flood waits in the peer's send buffer rather than in our memory.
qint64 readBufferFor(const NetworkLimits &limits)
{
    return qint64(limits.maxHeaderBytes) + limits.maxBodyBytes + 4096;
}

} // namespace

ConnectionGuard::ConnectionGuard(QTcpSocket *socket, const QHostAddress &peer,
                                 std::shared_ptr<ConnectionLimiter> limiter, const NetworkLimits &limits)
    : QObject(socket)
    , m_socket(socket)
    , m_peer(peer)
    , m_peerText(ConnectionLimiter::normalized(peer).toString())
    , m_limiter(std::move(limiter))
    , m_framing(framingLimits(limits))
    , m_headTimeoutMs(limits.requestHeaderTimeoutMs)
    , m_bodyTimeoutMs(limits.requestBodyTimeoutMs)
    , m_deadline(this)
    , m_log("http")
{
    m_socket->setReadBufferSize(readBufferFor(limits));
    connect(m_socket, &QIODevice::readyRead, this, &ConnectionGuard::onReadyRead);
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &ConnectionGuard::onDeadline);
    armHeadDeadline();
}

ConnectionGuard::~ConnectionGuard()
{
    m_limiter->release(m_peer);
}

void ConnectionGuard::logThrottled(const std::string &message) const
{
    const auto decision = RemoteLogThrottle::shared().allow(m_peerText);
    if (!decision.log)
        return;
    if (decision.suppressedBefore > 0)
        m_log.warn("{} ({} more lines about {} suppressed)", message, decision.suppressedBefore, m_peerText);
    else
        m_log.warn("{}", message);
}

void ConnectionGuard::armHeadDeadline()
{
    m_deadline.start(m_headTimeoutMs);
}

void ConnectionGuard::onReadyRead()
{
    if (m_closing)
        return;
    // Only what arrived since the last read: QHttpServer reads inside a
    // transaction, and bytesAvailable()/peek() start where its reads stopped.
    const QByteArray bytes = m_socket->peek(m_socket->bytesAvailable());
    const http::RequestFraming::Phase before = m_framing.phase();
    const int completedBefore = m_framing.completedRequests();
    const auto verdict = m_framing.feed(bytes);
    switch (verdict.kind) {
    case http::RequestFraming::Verdict::Kind::Rejected:
        ++m_limiter->requestsRefused;
        refuse(verdict.status, verdict.reason);
        return;
    case http::RequestFraming::Verdict::Kind::Upgraded:
        // From here on the WebSocket's own limits (frame size, start and media
        // timeouts) apply, and QWebSocket needs an unbounded read buffer.
        m_deadline.stop();
        m_socket->setReadBufferSize(0);
        disconnect(m_socket, &QIODevice::readyRead, this, &ConnectionGuard::onReadyRead);
        return;
    case http::RequestFraming::Verdict::Kind::Continue:
        break;
    }
    if (m_framing.completedRequests() != completedBefore)
        armHeadDeadline(); // keep-alive: the next request has as long as the first
    else if (before == http::RequestFraming::Phase::Head && m_framing.phase() == http::RequestFraming::Phase::Body)
        m_deadline.start(m_bodyTimeoutMs);
}

void ConnectionGuard::onDeadline()
{
    if (m_closing) {
        // The peer never closed its side after our answer.
        m_socket->abort();
        return;
    }
    if (m_framing.betweenRequests() && m_framing.completedRequests() > 0) {
        // An idle keep-alive connection: closing it needs no explanation.
        m_socket->disconnectFromHost();
        return;
    }
    ++m_limiter->requestTimeouts;
    const bool inBody = m_framing.phase() == http::RequestFraming::Phase::Body;
    refuse(408, inBody ? QByteArrayLiteral("request body not complete in time")
                       : QByteArrayLiteral("request head not complete in time"));
}

void ConnectionGuard::refuse(int status, const QByteArray &reason)
{
    logThrottled(fmt::format("refusing connection from {}: {} {}", m_peerText, status, reason));
    m_closing = true;
    // QHttpServer must not parse another byte of this connection: it would
    // answer a request we have refused, or hold half of one forever.
    disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    connect(m_socket, &QIODevice::readyRead, this, &ConnectionGuard::discardInput);
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    discardInput();

    const QByteArray body = reason + '\n';
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + http::RequestFraming::reasonPhrase(status)
                          + "\r\nContent-Type: text/plain\r\nContent-Length: " + QByteArray::number(body.size())
                          + "\r\nConnection: close\r\n\r\n" + body;
    m_socket->write(response);
    connect(m_socket, &QIODevice::bytesWritten, this, &ConnectionGuard::shutdownWhenFlushed);
    m_socket->flush();
    shutdownWhenFlushed();
    m_deadline.start(kLingerMs);
}

void ConnectionGuard::discardInput()
{
    m_socket->readAll();
}

void ConnectionGuard::shutdownWhenFlushed()
{
    if (m_writeShut || m_socket->bytesToWrite() > 0)
        return;
    // Half-close: the answer is out and the peer sees its end; we keep reading
    // (and dropping) what it still sends, since closing a socket with unread
    // input resets it and the reset can destroy the answer in flight.
    m_writeShut = true;
    if (m_socket->socketDescriptor() >= 0)
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
}

} // namespace apex
