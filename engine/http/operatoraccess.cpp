#include "http/operatoraccess.h"

#include "http/apexserver.h"

#include <QHttpServerRequest>

namespace apex {

namespace {

bool equalConstantTime(QByteArrayView a, QByteArrayView b)
{
    // The length is no secret worth hiding; the bytes are.
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
    return diff == 0;
}

} // namespace

bool OperatorAccess::isPublicPath(const QString &path)
{
    return path == QLatin1String("/healthz") || path == QLatin1String(ApexServer::kVoicePath)
        || path == QLatin1String(ApexServer::kMediaPath);
}

OperatorAccess::Decision OperatorAccess::check(const QHttpServerRequest &request) const
{
    const bool forwarded = !request.value(QByteArrayLiteral("Forwarded")).isEmpty()
                        || !request.value(QByteArrayLiteral("X-Forwarded-For")).isEmpty()
                        || !request.value(QByteArrayLiteral("X-Real-IP")).isEmpty();
    return check(request.remoteAddress(), request.value(QByteArrayLiteral("Authorization")), forwarded);
}

OperatorAccess::Decision OperatorAccess::check(const QHostAddress &peer, const QByteArray &authorization,
                                               bool forwarded) const
{
    if (!m_token.isEmpty()) {
        const QByteArray scheme = authorization.left(7);
        if (scheme.compare(QByteArrayLiteral("Bearer "), Qt::CaseInsensitive) != 0)
            return Decision::Unauthorized;
        return equalConstantTime(authorization.mid(7).trimmed(), m_token) ? Decision::Allowed : Decision::Unauthorized;
    }
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4); // ::ffff:127.0.0.1 is loopback too
    const bool loopback = isV4 ? QHostAddress(v4).isLoopback() : peer.isLoopback();
    return loopback && !forwarded ? Decision::Allowed : Decision::Forbidden;
}

} // namespace apex
