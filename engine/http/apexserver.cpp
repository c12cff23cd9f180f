#include "http/apexserver.h"

#include "http/connectionlimiter.h"
#include "http/descriptorlimit.h"
#include "http/guardedtcpserver.h"
#include "observability/logescape.h"
#include "observability/logthrottle.h"
#include "observability/prometheustext.h"
#include "telephony/streamtoken.h"
#include "telephony/twiliomedialeg.h"
#include "telephony/twiliosignature.h"
#include "telephony/twimlwriter.h"
#include "tenancy/engineconfig.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QJsonObject>
#include <QMetaMethod>
#include <QRegularExpression>

#include <algorithm>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

namespace apex {

namespace {

// A rejected socket gets this long to finish the close handshake.
constexpr int kRejectLingerMs = 3000;
// Wire values in log lines: a CallSid is 34 characters, a number 16.
constexpr qsizetype kLogIdChars = 64;

QString peerText(const QHostAddress &address)
{
    return ConnectionLimiter::normalized(address).toString();
}

// A Host header is echoed into the TwiML's stream URL when nothing else names
// us: only a plain host[:port] may be.
bool plainHost(const QString &host)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$"));
    return host.size() <= 255 && pattern.match(host).hasMatch();
}

// A line about one remote address, unless it has had its share this second.
template<typename... Args>
void warnThrottled(const log::CallLogger &log, const QString &remote, fmt::format_string<Args...> format, Args &&...args)
{
    const auto decision = RemoteLogThrottle::shared().allow(remote);
    if (!decision.log)
        return;
    std::string line = fmt::format(format, std::forward<Args>(args)...);
    if (decision.suppressedBefore > 0)
        line += fmt::format(" ({} more lines about {} suppressed)", decision.suppressedBefore, remote);
    log.warn("{}", line);
}

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

// Claims every operator route the peer may not see, so that no handler added
// later has to remember to check: the handler behind it runs only for allowed
// peers. Registered right after the upgrade rule, before any other route.
class OperatorGateRule : public QHttpServerRouterRule
{
public:
    OperatorGateRule(const OperatorAccess *access, const QString &pathPattern, RouterHandler handler)
        : QHttpServerRouterRule(pathPattern, std::move(handler))
        , m_access(access)
    {
    }

protected:
    bool matches(const QHttpServerRequest &request, QRegularExpressionMatch *) const override
    {
        return !isWebSocketUpgrade(request) && !m_access->isPublic(request.url().path())
            && m_access->check(request) != OperatorAccess::Decision::Allowed;
    }

private:
    const OperatorAccess *m_access;
};

} // namespace

ApexServer::ApexServer(QObject *parent)
    : QObject(parent)
    , m_http(this)
    , m_limiter(std::make_shared<ConnectionLimiter>())
    , m_log("http")
{
    // First, so no ordinary route answers an upgrade with HTTP. The view writes
    // nothing: the WebSocket server owns the socket from here on.
    m_http.route<WebSocketUpgradeRule>(QStringLiteral("/"), [](QHttpServerResponder &&) {});
    m_http.route<OperatorGateRule>(&m_operator, QStringLiteral("/"),
                                   [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                                       refuseOperator(request, std::move(responder));
                                   });
    m_http.route(QStringLiteral("/healthz"), QHttpServerRequest::Method::Get,
                 [] { return QHttpServerResponse(QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}}); });
    m_http.route(QString::fromLatin1(kVoicePath), QHttpServerRequest::Method::Post,
                 [this](const QHttpServerRequest &request) { return voiceWebhook(request); });
    m_http.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        m_log.debug("404 {} (method {})", logSafe(request.url().path()), int(request.method()));
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
    // Before the first accept: the caps below depend on it.
    const DescriptorLimit descriptors = DescriptorLimit::raiseToHard();
    const int budget = descriptors.connectionBudget();
    if (budget < m_limits.maxConnections) {
        m_log.warn("limits.maxConnections {} lowered to {}: the descriptor limit ({}) carries no more while each call "
                   "also holds provider connections",
                   m_limits.maxConnections, budget, descriptors.soft);
        m_limits.maxConnections = budget;
    }
    // Our own QTcpServer, so a failure comes with its reason (QAbstractHttpServer::listen only logs it),
    // and so connections are admitted and guarded before QHttpServer sees them.
    auto *tcp = new GuardedTcpServer(m_limiter, &m_http);
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
    m_tcp = tcp;
    setLimits(m_limits);
    m_http.bind(tcp);
    m_address = address;
    m_port = tcp->serverPort();
    if (m_host.isEmpty())
        m_host = address.toString();
    m_log.info("listening on {}:{} (media stream url {}; up to {} connections, {} per address)", m_host, m_port,
               logSafe(mediaStreamUrl()), m_limits.maxConnections, m_limits.maxConnectionsPerAddress);
    if (m_twilioAuthToken.isEmpty()) {
        m_log.warn("no Twilio auth token (TWILIO_AUTH_TOKEN or providers.twilioAuthToken): accepting unsigned voice "
                   "webhooks and unauthenticated media streams from anyone who can reach {}:{}",
                   m_host, m_port);
    } else {
        m_log.info("voice webhooks must carry a valid X-Twilio-Signature; media streams a stream token");
    }
    if (!m_operator.hasToken())
        m_log.info("no operator token (APEX_OPERATOR_TOKEN or operatorToken): operator routes answer loopback peers only");
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
        m_log.warn("public URL \"{}\" is not an http(s)/ws(s) URL; Twilio will not reach the media stream",
                   logSafe(m_publicUrl));
}

void ApexServer::setTwilioAuthToken(const QString &authToken)
{
    m_twilioAuthToken = authToken;
    m_tokens = authToken.isEmpty()
                 ? nullptr
                 : std::make_shared<StreamTokenIssuer>(StreamTokenIssuer::derivedKey(authToken.toUtf8()));
}

void ApexServer::setLimits(const NetworkLimits &limits)
{
    m_limits = limits;
    m_limiter->setLimits(limits.maxConnections, limits.maxConnectionsPerAddress);
    RemoteLogThrottle::shared().setRate(limits.logLinesPerSecondPerRemote);
    if (m_tcp)
        m_tcp->setLimits(limits);
}

void ApexServer::applyConfig(const EngineConfig &config)
{
    setPublicUrl(config.publicUrl);
    setTwilioAuthToken(config.providers.twilioAuthToken);
    setOperatorToken(config.operatorToken);
    setLimits(config.limits);
}

QJsonObject ApexServer::networkStats() const
{
    return QJsonObject{
        {QStringLiteral("connectionsOpen"), m_limiter->open()},
        {QStringLiteral("connectionsMax"), m_limiter->maxTotal()},
        {QStringLiteral("shedAtTotalLimit"), qint64(m_limiter->shedTotalFull.load())},
        {QStringLiteral("shedAtAddressLimit"), qint64(m_limiter->shedAddressFull.load())},
        {QStringLiteral("acceptFailures"), qint64(m_limiter->acceptFailures.load())},
        {QStringLiteral("requestsRefused"), qint64(m_limiter->requestsRefused.load())},
        {QStringLiteral("requestTimeouts"), qint64(m_limiter->requestTimeouts.load())},
        {QStringLiteral("webhookSignaturesRefused"), qint64(m_limiter->webhookSignatureRefused.load())},
        {QStringLiteral("operatorRequestsRefused"), qint64(m_limiter->operatorRefused.load())},
        {QStringLiteral("streamsRefused"), qint64(TwilioMediaLeg::streamsRefused())},
        {QStringLiteral("logLinesSuppressed"), qint64(RemoteLogThrottle::shared().suppressedTotal())},
        {QStringLiteral("twilioAuthenticated"), authenticatesTwilio()},
    };
}

void ApexServer::appendMetrics(PrometheusText &out) const
{
    out.family(QStringLiteral("apex_connections_open"), "gauge", QStringLiteral("Open inbound connections, calls included."));
    out.sample(QStringLiteral("apex_connections_open"), m_limiter->open());
    out.family(QStringLiteral("apex_connections_shed_total"), "counter",
               QStringLiteral("New connections refused with 503 before QHttpServer saw them, by the limit they hit."));
    out.sample(QStringLiteral("apex_connections_shed_total"), double(m_limiter->shedTotalFull.load()),
               {{QStringLiteral("limit"), QStringLiteral("total")}});
    out.sample(QStringLiteral("apex_connections_shed_total"), double(m_limiter->shedAddressFull.load()),
               {{QStringLiteral("limit"), QStringLiteral("address")}});
    out.family(QStringLiteral("apex_accept_failures_total"), "counter",
               QStringLiteral("accept() failures (EMFILE, ENFILE, ENOMEM, ...)."));
    out.sample(QStringLiteral("apex_accept_failures_total"), double(m_limiter->acceptFailures.load()));
    out.family(QStringLiteral("apex_requests_refused_total"), "counter", QStringLiteral("Requests refused, by reason."));
    const std::pair<const char *, std::uint64_t> refused[] = {
        {"framing", m_limiter->requestsRefused.load()},
        {"timeout", m_limiter->requestTimeouts.load()},
        {"signature", m_limiter->webhookSignatureRefused.load()},
        {"operator", m_limiter->operatorRefused.load()},
        {"stream_token", TwilioMediaLeg::streamsRefused()},
    };
    for (const auto &[reason, count] : refused)
        out.sample(QStringLiteral("apex_requests_refused_total"), double(count), {{QStringLiteral("reason"), QLatin1String(reason)}});
    out.family(QStringLiteral("apex_log_lines_suppressed_total"), "counter",
               QStringLiteral("Log lines about misbehaving remotes dropped by the per-remote throttle."));
    out.sample(QStringLiteral("apex_log_lines_suppressed_total"), double(RemoteLogThrottle::shared().suppressedTotal()));
}

void ApexServer::refuseOperator(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    ++m_limiter->operatorRefused;
    const QString peer = peerText(request.remoteAddress());
    const bool unauthorized = m_operator.check(request) == OperatorAccess::Decision::Unauthorized;
    warnThrottled(m_log, peer, "operator route {} refused to {}: {}", logSafe(request.url().path()), peer,
                  unauthorized ? "no valid bearer token" : "not a loopback peer and no operator token configured");
    if (unauthorized) {
        responder.write(QByteArrayLiteral("a valid operator bearer token is required\n"),
                        {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain")},
                         {QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer")}},
                        QHttpServerResponder::StatusCode::Unauthorized);
        return;
    }
    responder.write(QByteArrayLiteral("operator routes answer loopback peers only\n"), QByteArrayLiteral("text/plain"),
                    QHttpServerResponder::StatusCode::Forbidden);
}

QStringList ApexServer::signedUrls(const QHttpServerRequest &request) const
{
    const QUrl url = request.url();
    QByteArray target = url.path(QUrl::FullyEncoded).toUtf8();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toUtf8();
    if (!m_publicUrl.isEmpty()) {
        // Behind a proxy the scheme and Host we see are the proxy's; only the
        // configured URL is what Twilio requested.
        QUrl origin(m_publicUrl);
        const QString scheme = origin.scheme().toLower();
        if (scheme == QLatin1String("wss"))
            origin.setScheme(QStringLiteral("https"));
        else if (scheme == QLatin1String("ws"))
            origin.setScheme(QStringLiteral("http"));
        origin.setQuery(QString());
        origin.setFragment(QString());
        return {twilio::requestUrl(origin.toString(QUrl::FullyEncoded), target)};
    }
    const QString host = QString::fromLatin1(request.value(QByteArrayLiteral("Host")));
    if (!plainHost(host))
        return {};
    return {twilio::requestUrl(QStringLiteral("https://") + host, target),
            twilio::requestUrl(QStringLiteral("http://") + host, target)};
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
    // One reading of the form for the signature and for the fields: a repeated
    // name keeps its last value here, and every value in the signature.
    QMap<QString, QString> form;
    for (const auto &[name, value] : twilio::parseFormBody(body))
        form.insert(name, value);
    return form;
}

QHttpServerResponse ApexServer::voiceWebhook(const QHttpServerRequest &request)
{
    const QString peer = peerText(request.remoteAddress());
    if (!m_twilioAuthToken.isEmpty()) {
        const QByteArray signature = request.value(QByteArrayLiteral("X-Twilio-Signature"));
        const QStringList urls = signedUrls(request);
        const QByteArray token = m_twilioAuthToken.toUtf8();
        const bool valid = std::any_of(urls.cbegin(), urls.cend(), [&](const QString &url) {
            return twilio::validFormPost(token, url, request.body(), signature);
        });
        if (!valid) {
            ++m_limiter->webhookSignatureRefused;
            warnThrottled(m_log, peer, "voice webhook from {} refused with 403: {} X-Twilio-Signature for {}", peer,
                          signature.isEmpty() ? "no" : "a wrong",
                          urls.isEmpty() ? QStringLiteral("(no usable Host header)") : logSafe(urls.first()));
            return QHttpServerResponse(QByteArrayLiteral("text/plain"), QByteArrayLiteral("invalid signature\n"),
                                       QHttpServerResponder::StatusCode::Forbidden);
        }
    }

    const QMap<QString, QString> form = parseForm(request.body());
    const QString callSid = form.value(QStringLiteral("CallSid"));
    const QString from = form.value(QStringLiteral("From"));
    const QString to = form.value(QStringLiteral("To"));
    log::CallLogger callLog("http", logSafe(callSid, kLogIdChars));

    QString streamUrl = mediaStreamUrl();
    if (m_publicUrl.isEmpty() && isWildcard(m_address)) {
        // Listening on every interface: the Host the webhook came in on is the
        // one address we know the caller side can reach.
        const QString hostHeader = QString::fromLatin1(request.value(QByteArrayLiteral("Host")));
        if (plainHost(hostHeader))
            streamUrl = QStringLiteral("ws://%1%2").arg(hostHeader, QLatin1String(kMediaPath));
    }

    QList<QPair<QString, QString>> parameters;
    QString tenant;
    if (m_tenantResolver) {
        tenant = m_tenantResolver(to);
        if (tenant.isEmpty()) {
            callLog.warn("voice webhook: no tenant answers {} (from {}); refusing the call", logSafe(to, kLogIdChars),
                         logSafe(from, kLogIdChars));
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
    if (m_tokens) {
        // The stream must prove the webhook announced it: Twilio copies the
        // token into `start`, nobody else has seen it.
        const QString token = m_tokens->issue(tenant, callSid);
        if (token.isEmpty()) {
            callLog.warn("voice webhook from {}: cannot mint a stream token (CallSid \"{}\", tenant \"{}\"); refusing",
                         peer, logSafe(callSid, kLogIdChars), logSafe(tenant, kLogIdChars));
            return QHttpServerResponse(QByteArrayLiteral("text/plain"),
                                       QByteArrayLiteral("CallSid and a tenant are required\n"),
                                       QHttpServerResponder::StatusCode::BadRequest);
        }
        parameters.append({QString::fromLatin1(TwilioMediaLeg::kTokenParameter), token});
    }
    callLog = log::CallLogger("http", logSafe(callSid, kLogIdChars), logSafe(tenant, kLogIdChars));
    callLog.info("voice webhook from {}: from {} to {} -> {} (tenant {}{})", peer, logSafe(from, kLogIdChars),
                 logSafe(to, kLogIdChars), logSafe(streamUrl), tenant.isEmpty() ? QStringLiteral("by number") : logSafe(tenant, kLogIdChars),
                 m_tokens ? QStringLiteral(", signed; stream token issued") : QString());
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
               peerText(socket->peerAddress()), socket->peerPort());
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
            const QString peer = peerText(socket->peerAddress());
            warnThrottled(m_log, peer, "WebSocket on unknown path \"{}\" from {}; closing", logSafe(path), peer);
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
        leg->setStartTimeoutMs(m_limits.streamStartTimeoutMs);
        leg->setMediaTimeoutMs(m_limits.streamMediaTimeoutMs);
        leg->setStreamTokens(m_tokens);
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
