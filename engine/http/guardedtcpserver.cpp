#include "http/guardedtcpserver.h"

#include "http/connectionguard.h"
#include "http/connectionlimiter.h"
#include "observability/logthrottle.h"

#include <QTcpSocket>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace apex {

namespace {

constexpr char kShedResponse[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 13\r\nRetry-After: 1\r\nConnection: close\r\n\r\nover capacity";
// Connections waiting in the backlog that one EMFILE episode sheds at most.
constexpr int kMaxDrainPerEpisode = 256;
// Without a spare descriptor the backlog cannot be drained; retrying at once
// would spin on the same EMFILE.
constexpr int kResumeBackoffMs = 100;

QHostAddress peerOf(int descriptor)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof(storage);
    if (::getpeername(descriptor, reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return {};
    return QHostAddress(reinterpret_cast<const sockaddr *>(&storage));
}

} // namespace

GuardedTcpServer::GuardedTcpServer(std::shared_ptr<ConnectionLimiter> limiter, QObject *parent)
    : QTcpServer(parent)
    , m_limiter(std::move(limiter))
    , m_resume(this)
    , m_log("http")
{
    reserveSpare();
    m_resume.setSingleShot(true);
    connect(&m_resume, &QTimer::timeout, this, &QTcpServer::resumeAccepting);
    connect(this, &QTcpServer::acceptError, this, &GuardedTcpServer::onAcceptError);
}

GuardedTcpServer::~GuardedTcpServer()
{
    if (m_spare >= 0)
        ::close(m_spare);
}

void GuardedTcpServer::reserveSpare()
{
    if (m_spare < 0)
        m_spare = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void GuardedTcpServer::incomingConnection(qintptr descriptor)
{
    const QHostAddress peer = peerOf(int(descriptor));
    switch (m_limiter->admit(peer)) {
    case ConnectionLimiter::Admission::TotalFull:
        shed(int(descriptor), peer, "the engine is at its connection limit");
        return;
    case ConnectionLimiter::Admission::AddressFull:
        shed(int(descriptor), peer, "this address is at its connection limit");
        return;
    case ConnectionLimiter::Admission::Admitted:
        break;
    }
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        m_log.warn("cannot adopt a connection from {}: {}", ConnectionLimiter::normalized(peer).toString(),
                   socket->errorString());
        ::close(int(descriptor));
        delete socket;
        m_limiter->release(peer);
        return;
    }
    new ConnectionGuard(socket, peer, m_limiter, m_limits);
    addPendingConnection(socket);
}

void GuardedTcpServer::shed(int descriptor, const QHostAddress &peer, const char *why)
{
    // Best effort and never blocking: a new socket's send buffer takes this.
    [[maybe_unused]] const auto sent = ::send(descriptor, kShedResponse, sizeof(kShedResponse) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(descriptor);
    const QString peerText = peer.isNull() ? QStringLiteral("(unknown)") : ConnectionLimiter::normalized(peer).toString();
    const auto decision = RemoteLogThrottle::shared().allow(peerText);
    if (decision.log)
        m_log.warn("shedding a new connection from {}: {} ({} open{})", peerText, why, m_limiter->open(),
                   decision.suppressedBefore > 0 ? fmt::format("; {} more lines about {} suppressed", decision.suppressedBefore, peerText)
                                                 : std::string());
}

void GuardedTcpServer::onAcceptError(QAbstractSocket::SocketError error)
{
    const auto failures = ++m_limiter->acceptFailures;
    const bool outOfDescriptors = error == QAbstractSocket::SocketResourceError;
    const auto decision = RemoteLogThrottle::shared().allow(QStringLiteral("(accept)"));
    if (decision.log)
        m_log.error("accept failed: {} ({} failures so far){}", errorString(), failures,
                    outOfDescriptors ? "; out of descriptors or memory: shedding waiting connections" : "");

    int drained = 0;
    if (outOfDescriptors && m_spare >= 0) {
        ::close(m_spare);
        m_spare = -1;
        const int listener = int(socketDescriptor());
        while (drained < kMaxDrainPerEpisode) {
            const int descriptor = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (descriptor < 0)
                break;
            shed(descriptor, peerOf(descriptor), "out of file descriptors");
            ++m_limiter->shedTotalFull;
            ++drained;
        }
        reserveSpare();
    }
    // QTcpServer paused itself before emitting acceptError; it never resumes.
    if (m_spare >= 0 && (drained > 0 || !outOfDescriptors))
        resumeAccepting();
    else
        m_resume.start(kResumeBackoffMs);
}

} // namespace apex
