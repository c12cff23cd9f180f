#pragma once

#include "http/requestframing.h"
#include "observability/logging.h"

#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include <memory>

class QTcpSocket;

namespace apex {

class ConnectionLimiter;
struct NetworkLimits;

// Stands beside QHttpServer on one accepted connection until it becomes a
// WebSocket (or forever, for plain HTTP): every read passes RequestFraming
// before QHttpServer parses it, and a request head or body that takes too long
// ends the connection. A refused connection gets its status line, QHttpServer
// never sees its bytes again, and the close lingers so the peer can read the
// answer instead of a reset.
//
// A child of the socket: it dies with it and then gives the connection back
// to the limiter.
class ConnectionGuard : public QObject
{
    Q_OBJECT
public:
    // Must run before QHttpServer connects to the socket: readyRead reaches the
    // guard first only if its connection is older.
    ConnectionGuard(QTcpSocket *socket, const QHostAddress &peer, std::shared_ptr<ConnectionLimiter> limiter,
                    const NetworkLimits &limits);
    ~ConnectionGuard() override;

    static constexpr int kLingerMs = 2'000;

private:
    void onReadyRead();
    void onDeadline();
    void refuse(int status, const QByteArray &reason);
    void discardInput();
    void shutdownWhenFlushed();
    void armHeadDeadline();
    void logThrottled(const std::string &message) const;

    QTcpSocket *m_socket;
    QHostAddress m_peer;
    QString m_peerText;
    std::shared_ptr<ConnectionLimiter> m_limiter;
    http::RequestFraming m_framing;
    int m_headTimeoutMs;
    int m_bodyTimeoutMs;
    QTimer m_deadline;
    bool m_closing = false;
    bool m_writeShut = false;
    log::CallLogger m_log;
};

} // namespace apex
