#pragma once

#include "http/listenaddress.h"
#include "http/operatoraccess.h"
#include "observability/logging.h"
#include "tenancy/networklimits.h"

#include <QHttpServer>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

class QHttpServerRequest;
class QWebSocket;

namespace apex {

class ConnectionLimiter;
class GuardedTcpServer;
class PrometheusText;
class StreamTokenIssuer;
class TwilioMediaLeg;
struct EngineConfig;

// The engine's one listening server: Twilio's voice webhook, the media
// WebSocket and health, plus whatever routes the engine adds via http().
//
//   GET  /healthz          200 {"status":"ok"}
//   POST /twilio/voice     TwiML <Connect><Stream url="{public ws url}/twilio/media">
//                          with <Parameter>s tenant, from, to (and token, below)
//   WS   /twilio/media     a TwilioMediaLeg, announced by newCall()
//   WS   anything else     closed with 1008 "unknown path"
//   any other route        an operator route (OperatorAccess): 401/403 unless
//                          allowed, then the route added via http(), else 404
//
// With a Twilio auth token the webhook answers 403 unless X-Twilio-Signature
// signs the URL Twilio requested (publicUrl + the request target) and the form,
// and its TwiML carries a single-use stream token the leg checks at `start`.
// Without one, both are open, as the log says once at listen().
//
// Every connection passes GuardedTcpServer (connection caps, descriptor
// exhaustion) and a ConnectionGuard (framing, sizes, timeouts) before
// QHttpServer sees a byte: see NetworkLimits.
//
// Lives on one thread (usually the main thread); the legs it creates start there.
class ApexServer : public QObject
{
    Q_OBJECT
public:
    // Called number (E.164, the webhook's To) -> tenant id. Return the default
    // tenant for numbers nobody claims; return an empty string to refuse the
    // call: the webhook then answers 404 with TwiML that says so and hangs up
    // (<Say>…</Say><Hangup/>), and the refusal is logged with the CallSid.
    using TenantResolver = std::function<QString(const QString &calledNumber)>;

    static constexpr const char *kVoicePath = "/twilio/voice";
    static constexpr const char *kMediaPath = "/twilio/media";

    explicit ApexServer(QObject *parent = nullptr);
    ~ApexServer() override;

    // Port 0 picks a free port; serverPort() tells which. False + *error on failure.
    bool listen(const QHostAddress &address, quint16 port, QString *error = nullptr);
    bool listen(const ListenAddress &address, QString *error = nullptr);
    bool isListening() const { return m_port != 0; }
    quint16 serverPort() const { return m_port; }
    QHostAddress serverAddress() const { return m_address; }

    // Base URL Twilio reaches us at ("https://abc.example"; EngineConfig::publicUrl
    // or APEX_PUBLIC_URL). http(s) becomes ws(s); a path prefix is kept. Empty:
    // ws://<listen host>:<port>, good for local tests only (Twilio requires wss).
    void setPublicUrl(const QString &url);
    QString publicUrl() const { return m_publicUrl; }
    // The <Stream url> the webhook hands out.
    QString mediaStreamUrl() const;

    // Without a resolver no tenant Parameter is sent and the session resolves
    // the tenant from the called number itself (without a Twilio auth token
    // only: a stream token names its tenant).
    void setTenantResolver(TenantResolver resolver) { m_tenantResolver = std::move(resolver); }

    // Empty: unsigned webhooks and token-less streams are accepted. The stream
    // token key is derived from it, so several engines behind one number share
    // their tokens.
    void setTwilioAuthToken(const QString &authToken);
    bool authenticatesTwilio() const { return !m_twilioAuthToken.isEmpty(); }
    void setOperatorToken(const QString &token) { m_operator.setToken(token); }
    // Takes effect for connections accepted from now on; call before listen().
    void setLimits(const NetworkLimits &limits);
    const NetworkLimits &limits() const { return m_limits; }
    // publicUrl, the Twilio auth token, the operator token and the limits.
    void applyConfig(const EngineConfig &config);

    // Connection counts, sheds, refusals and accept failures, for /stats.
    QJsonObject networkStats() const;
    // The same as Prometheus families, for /metrics.
    void appendMetrics(PrometheusText &out) const;

    // A route anyone may reach, like Twilio's: a webhook that authenticates its
    // requests itself (WAHA's HMAC). Call before the route is used.
    void addPublicPath(const QString &path) { m_operator.addPublicPath(path); }

    // For extra routes (/metrics, /calls, ...): http().route("/metrics", ...).
    QHttpServer &http() { return m_http; }

    // "a=1&b=%2B1+2" -> {a: "1", b: "+1 2"}: application/x-www-form-urlencoded,
    // where '+' is a space (QUrlQuery alone gets that wrong).
    static QMap<QString, QString> parseForm(const QByteArray &body);
    // https://x/y -> wss://x/y/twilio/media; empty if url is not http(s)/ws(s).
    static QString mediaUrlFrom(const QString &publicUrl);

Q_SIGNALS:
    // A Twilio media WebSocket was accepted. The leg is unparented and lives on
    // the server's thread; the receiver takes ownership (wrap it in a
    // std::unique_ptr, or parent it). Connect directly (not queued): to run the
    // call on another thread, leg->moveToThread(target) inside the slot, then
    // hand it over. If nothing is connected the stream is closed (1001) and the
    // leg deleted. The leg has not seen `start` yet: wait for started().
    void newCall(apex::TwilioMediaLeg *leg);

private:
    QHttpServerResponse voiceWebhook(const QHttpServerRequest &request);
    // The URLs Twilio may have signed for this request, as it saw them.
    QStringList signedUrls(const QHttpServerRequest &request) const;
    void refuseOperator(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void onWebSocketConnection();
    void adoptTransport(QWebSocket *socket);
    void rejectSocket(std::unique_ptr<QWebSocket> socket, int closeCode, const QString &reason);

    QHttpServer m_http;
    std::shared_ptr<ConnectionLimiter> m_limiter;
    NetworkLimits m_limits;
    GuardedTcpServer *m_tcp = nullptr; // child of m_http once bound
    OperatorAccess m_operator;
    QString m_twilioAuthToken;
    std::shared_ptr<StreamTokenIssuer> m_tokens;
    TenantResolver m_tenantResolver;
    QString m_publicUrl;
    QHostAddress m_address;
    QString m_host;
    quint16 m_port = 0;
    log::CallLogger m_log;
};

} // namespace apex
