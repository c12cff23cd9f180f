#include "http/apexserver.h"

#include "telephony/twiliomedialeg.h"
#include "telephony/twiml.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QJsonObject>
#include <QMetaMethod>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

namespace apex {

namespace {

// A rejected socket gets this long to finish the close handshake.
constexpr int kRejectLingerMs = 3000;

bool isWildcard(const QHostAddress &address)
{
    return address == QHostAddress::Any || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6;
}

bool isWebSocketUpgrade(const QHttpServerRequest &request)
{
    return request.value(QByteArrayLiteral("Upgrade")).compare(QByteArrayLiteral("websocket"), Qt::CaseInsensitive) == 0;
}

// Qt 6.4 hands an upgrade to the WebSocket server only if some route "handled"
// the upgrade request. This rule claims every upgrade, whatever its path, so
// that unknown paths reach onWebSocketConnection() and get a proper close
// frame instead of a failed handshake.
class WebSocketUpgradeRule : public QHttpServerRouterRule
{
public:
    using QHttpServerRouterRule::QHttpServerRouterRule;

protected:
    bool matches(const QHttpServerRequest &request, QRegularExpressionMatch *) const override
    {
        return isWebSocketUpgrade(request);
    }
};

} // namespace

ApexServer::ApexServer(QObject *parent)
    : QObject(parent)
    , m_http(this)
    , m_log("http")
{
    // First, so no ordinary route answers an upgrade with HTTP. The view writes
    // nothing: the WebSocket server owns the socket from here on.
    m_http.route<WebSocketUpgradeRule>(QStringLiteral("/"), [](QHttpServerResponder &&) {});
    m_http.route(QStringLiteral("/healthz"), QHttpServerRequest::Method::Get,
                 [] { return QHttpServerResponse(QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}}); });
    m_http.route(QString::fromLatin1(kVoicePath), QHttpServerRequest::Method::Post,
                 [this](const QHttpServerRequest &request) { return voiceWebhook(request); });
    m_http.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        m_log.debug("404 {} (method {})", request.url().path(), int(request.method()));
        responder.write(QByteArrayLiteral("not found\n"), QByteArrayLiteral("text/plain"),
                        QHttpServerResponder::StatusCode::NotFound);
    });
    connect(&m_http, &QAbstractHttpServer::newWebSocketConnection, this, &ApexServer::onWebSocketConnection);
}

ApexServer::~ApexServer() = default;

bool ApexServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    if (m_port != 0) {
        if (error)
            *error = QStringLiteral("already listening on port %1").arg(m_port);
        return false;
    }
    // Our own QTcpServer, so a failure comes with its reason (QAbstractHttpServer::listen only logs it).
    auto *tcp = new QTcpServer(&m_http);
    if (!tcp->listen(address, port)) {
        const QString reason = QStringLiteral("cannot listen on %1:%2: %3")
                                   .arg(address.toString())
                                   .arg(port)
                                   .arg(tcp->errorString());
        delete tcp;
        m_log.error("{}", reason);
        if (error)
            *error = reason;
        return false;
    }
    m_http.bind(tcp);
    m_address = address;
    m_port = tcp->serverPort();
    if (m_host.isEmpty())
        m_host = address.toString();
    m_log.info("listening on {}:{} (media stream url {})", m_host, m_port, mediaStreamUrl());
    return true;
}

bool ApexServer::listen(const ListenAddress &address, QString *error)
{
    m_host = address.host;
    if (listen(address.address, address.port, error))
        return true;
    m_host.clear();
    return false;
}

void ApexServer::setPublicUrl(const QString &url)
{
    m_publicUrl = url.trimmed();
    if (!m_publicUrl.isEmpty() && mediaUrlFrom(m_publicUrl).isEmpty())
        m_log.warn("public URL \"{}\" is not an http(s)/ws(s) URL; Twilio will not reach the media stream", m_publicUrl);
}

QString ApexServer::mediaUrlFrom(const QString &publicUrl)
{
    QUrl url(publicUrl.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return {};
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("https") || scheme == QLatin1String("wss"))
        url.setScheme(QStringLiteral("wss"));
    else if (scheme == QLatin1String("http") || scheme == QLatin1String("ws"))
        url.setScheme(QStringLiteral("ws"));
    else
        return {};
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QLatin1String(kMediaPath));
    // Twilio strips query strings from Stream urls (error 31920 otherwise).
    url.setQuery(QString());
    url.setFragment(QString());
    return url.toString(QUrl::FullyEncoded);
}

QString ApexServer::mediaStreamUrl() const
{
    if (!m_publicUrl.isEmpty())
        return mediaUrlFrom(m_publicUrl);
    QString host = isWildcard(m_address) ? QStringLiteral("127.0.0.1") : m_host;
    if (m_address.protocol() == QAbstractSocket::IPv6Protocol && !isWildcard(m_address))
        host = QStringLiteral("[%1]").arg(host);
    return QStringLiteral("ws://%1:%2%3").arg(host).arg(m_port).arg(QLatin1String(kMediaPath));
}

QMap<QString, QString> ApexServer::parseForm(const QByteArray &body)
{
    QMap<QString, QString> form;
    for (const QByteArray &pair : body.split('&')) {
        if (pair.isEmpty())
            continue;
        const qsizetype eq = pair.indexOf('=');
        QByteArray name = eq < 0 ? pair : pair.left(eq);
        QByteArray value = eq < 0 ? QByteArray() : pair.mid(eq + 1);
        name.replace('+', ' ');
        value.replace('+', ' ');
        form.insert(QString::fromUtf8(QByteArray::fromPercentEncoding(name)),
                    QString::fromUtf8(QByteArray::fromPercentEncoding(value)));
    }
    return form;
}

QHttpServerResponse ApexServer::voiceWebhook(const QHttpServerRequest &request)
{
    const QMap<QString, QString> form = parseForm(request.body());
    const QString callSid = form.value(QStringLiteral("CallSid"));
    const QString from = form.value(QStringLiteral("From"));
    const QString to = form.value(QStringLiteral("To"));
    log::CallLogger callLog("http", callSid);

    QString streamUrl = mediaStreamUrl();
    if (m_publicUrl.isEmpty() && isWildcard(m_address)) {
        // Listening on every interface: the Host the webhook came in on is the
        // one address we know the caller side can reach.
        const QByteArray hostHeader = request.value(QByteArrayLiteral("Host"));
        if (!hostHeader.isEmpty())
            streamUrl = QStringLiteral("ws://%1%2").arg(QString::fromLatin1(hostHeader), QLatin1String(kMediaPath));
    }

    QList<QPair<QString, QString>> parameters;
    if (m_tenantResolver) {
        const QString tenant = m_tenantResolver(to);
        if (tenant.isEmpty()) {
            callLog.warn("voice webhook: no tenant answers {} (from {}); refusing the call", to, from);
            return QHttpServerResponse(QByteArrayLiteral("text/xml"),
                                       twiml::sayAndHangUp(QStringLiteral("Sorry, this number is not in service.")),
                                       QHttpServerResponder::StatusCode::NotFound);
        }
        parameters.append({QStringLiteral("tenant"), tenant});
    }
    if (!from.isEmpty())
        parameters.append({QStringLiteral("from"), from});
    if (!to.isEmpty())
        parameters.append({QStringLiteral("to"), to});
    callLog.info("voice webhook: from {} to {} -> {} (tenant {})", from, to, streamUrl,
                 parameters.isEmpty() || parameters.first().first != QLatin1String("tenant") ? QStringLiteral("by number")
                                                                                             : parameters.first().second);
    return QHttpServerResponse(QByteArrayLiteral("text/xml"), twiml::connectStream(streamUrl, parameters));
}

void ApexServer::adoptTransport(QWebSocket *socket)
{
    // Qt 6.4 leaves the upgraded QTcpSocket a child of the QTcpServer: it would
    // die with the server under a live leg and stay behind on moveToThread().
    // QWebSocket does not expose it, so find it by its endpoints.
    for (QTcpServer *server : m_http.servers()) {
        for (QTcpSocket *tcp : server->findChildren<QTcpSocket *>(Qt::FindDirectChildrenOnly)) {
            if (tcp->peerPort() == socket->peerPort() && tcp->peerAddress() == socket->peerAddress()
                && tcp->localPort() == socket->localPort()) {
                tcp->setParent(socket);
                return;
            }
        }
    }
    m_log.warn("could not find the TCP socket of the WebSocket from {}:{}; it stays with the server",
               socket->peerAddress().toString(), socket->peerPort());
}

void ApexServer::onWebSocketConnection()
{
    while (m_http.hasPendingWebSocketConnections()) {
        std::unique_ptr<QWebSocket> socket = m_http.nextPendingWebSocketConnection();
        if (!socket)
            continue;
        adoptTransport(socket.get());
        const QString path = socket->requestUrl().path();
        if (path != QLatin1String(kMediaPath)) {
            m_log.warn("WebSocket on unknown path \"{}\" from {}; closing", path.left(200),
                       socket->peerAddress().toString());
            rejectSocket(std::move(socket), QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("unknown path"));
            continue;
        }
        if (!isSignalConnected(QMetaMethod::fromSignal(&ApexServer::newCall))) {
            m_log.error("media stream from {} but no call handler is connected; closing",
                        socket->peerAddress().toString());
            rejectSocket(std::move(socket), QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("no call handler"));
            continue;
        }
        auto *leg = new TwilioMediaLeg(std::move(socket));
        m_log.debug("media stream accepted from {}", leg->peer());
        Q_EMIT newCall(leg);
    }
}

void ApexServer::rejectSocket(std::unique_ptr<QWebSocket> socket, int closeCode, const QString &reason)
{
    // Deleting the socket right away would abort the TCP connection before the
    // close frame leaves: keep it until the peer answers or the linger ends.
    QWebSocket *raw = socket.release();
    raw->setParent(this);
    connect(raw, &QWebSocket::disconnected, raw, &QObject::deleteLater);
    QTimer::singleShot(kRejectLingerMs, raw, [raw] {
        raw->abort();
        raw->deleteLater();
    });
    raw->close(QWebSocketProtocol::CloseCode(closeCode), reason);
}

} // namespace apex
