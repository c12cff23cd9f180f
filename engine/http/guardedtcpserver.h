#pragma once

#include "observability/logging.h"
#include "tenancy/networklimits.h"

#include <QHostAddress>
#include <QTcpServer>
#include <QTimer>

#include <memory>

namespace apex {

class ConnectionLimiter;

// The listening socket QHttpServer is bound to. Decides at accept time, before
// QHttpServer sees a connection: beyond ConnectionLimiter's caps the
// connection is shed with a 503; otherwise a ConnectionGuard is attached first.
//
// Running out of descriptors is handled rather than hung on: QTcpServer stops
// accepting for good after EMFILE/ENFILE, leaving new connections to wait in
// the backlog with nothing logged. Here the failure is logged and counted, one
// spare descriptor kept for the purpose is given up to accept and shed what
// waits, and accepting resumes.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    GuardedTcpServer(std::shared_ptr<ConnectionLimiter> limiter, QObject *parent = nullptr);
    ~GuardedTcpServer() override;

    void setLimits(const NetworkLimits &limits) { m_limits = limits; }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void onAcceptError(QAbstractSocket::SocketError error);
    void shed(int descriptor, const QHostAddress &peer, const char *why);
    void reserveSpare();

    std::shared_ptr<ConnectionLimiter> m_limiter;
    NetworkLimits m_limits;
    int m_spare = -1;
    QTimer m_resume;
    log::CallLogger m_log;
};

} // namespace apex
