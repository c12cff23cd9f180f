#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QString>

class QHttpServerRequest;

namespace apex {

// Who may read the operator endpoints (/stats, /metrics and every route added
// later that is not one of Twilio's or /healthz): with a token configured,
// whoever presents `Authorization: Bearer <token>`; without one, loopback peers
// only. A request a reverse proxy forwarded (it carries Forwarded or
// X-Forwarded-For) is not a loopback peer, whatever address it came from.
class OperatorAccess
{
public:
    enum class Decision { Allowed, Unauthorized /* 401 */, Forbidden /* 403 */ };

    void setToken(const QString &token) { m_token = token.toUtf8(); }
    bool hasToken() const { return !m_token.isEmpty(); }

    Decision check(const QHttpServerRequest &request) const;
    Decision check(const QHostAddress &peer, const QByteArray &authorization, bool forwarded) const;

    // Routes anyone may reach: Twilio's and the health check. Everything else
    // is an operator route, so a route added tomorrow is closed by default.
    static bool isPublicPath(const QString &path);
    // Those and the webhook paths added here (WhatsApp's, whose path is configurable).
    bool isPublic(const QString &path) const { return isPublicPath(path) || m_publicPaths.contains(path); }
    void addPublicPath(const QString &path) { m_publicPaths.append(path); }

private:
    QByteArray m_token;
    QList<QString> m_publicPaths;
};

} // namespace apex
