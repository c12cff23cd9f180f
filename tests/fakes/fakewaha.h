#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPair>
#include <QSet>
#include <QString>
#include <QUrl>

#include <functional>

class QNetworkAccessManager;
class QTcpServer;
class QTcpSocket;

namespace apex::test {

// One HTTP request as the fake saw it.
struct FakeWahaRequest
{
    QByteArray method;
    QByteArray path;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QJsonObject json;
    int status = 0; // what the fake answered (0: nothing, a stall)

    QByteArray header(QByteArrayView name) const; // case-insensitive; empty if absent
    QString session() const { return json.value(QLatin1String("session")).toString(); }
    QString chatId() const { return json.value(QLatin1String("chatId")).toString(); }
    QString text() const { return json.value(QLatin1String("text")).toString(); }
};

// WAHA (devlikeapro/waha, protocols.md §6) as a real HTTP/1.1 server on
// 127.0.0.1, both ways: it takes POST /api/sendText, /api/startTyping and
// /api/stopTyping (X-Api-Key checked, 401 in WAHA's shape otherwise) and
// GET /api/sessions, and it delivers webhook events to the engine, HMAC-signed
// the way WAHA signs them (X-Webhook-Hmac, X-Webhook-Hmac-Algorithm: sha512)
// or not. Faults: 500 storms, requests never answered, WAHA Core's 422 for
// any session but "default", and the 422 of a session that is not WORKING.
// Every answer says "Connection: close": one request per connection.
class FakeWaha : public QObject
{
    Q_OBJECT
public:
    enum class Fault {
        None,
        ServerError, // 500 on every /api request while faultTimes lasts (-1: until the script changes)
        Stall,       // read the request, never answer
    };
    Q_ENUM(Fault)

    struct Script
    {
        QString apiKey = QStringLiteral("waha-test-key"); // empty: no key required
        bool coreOnlyDefault = false; // WAHA Core before 2026.6.1: 422 for any session but "default"
        QSet<QString> stoppedSessions; // 422 "Session status is not as expected"
        Fault fault = Fault::None;
        int faultTimes = -1;
        QByteArray faultPath; // only requests to this path fault (e.g. "/api/sendText"); empty: every /api request
        QString version = QStringLiteral("2025.2.1");
    };

    struct MessageOptions
    {
        QString id;         // payload.id; empty: a fresh one
        QString to = QStringLiteral("15550100200@c.us"); // our number as the sender sees it
        bool fromMe = false;
        bool hasMedia = false;
        QString event = QStringLiteral("message");
    };

    explicit FakeWaha(QObject *parent = nullptr);
    ~FakeWaha() override;

    bool start(quint16 port = 0);
    quint16 port() const;
    QString url() const; // http://127.0.0.1:<port>

    Script &script() { return m_script; }
    void setScript(Script script)
    {
        m_script = std::move(script);
        m_faultsServed = 0;
    }

    const QList<FakeWahaRequest> &requests() const { return m_requests; }
    // sendText requests WAHA took (201), in order; optionally for one chat.
    QList<FakeWahaRequest> sentTexts(const QString &chatId = {}) const;
    int requestCount(const QByteArray &path) const;

    // A `message` event as WAHA posts it (protocols.md §6).
    static QJsonObject messageEvent(const QString &session, const QString &from, const QString &body,
                                    const MessageOptions &options);
    static QJsonObject messageEvent(const QString &session, const QString &from, const QString &body)
    {
        return messageEvent(session, from, body, MessageOptions());
    }
    // POSTs an event to the engine as WAHA does, signed with hmacKey when it is
    // set (or with `signature` as given, for forgeries). Waits for the answer;
    // returns its HTTP status (0: no answer within 5 s).
    int deliver(const QUrl &webhook, const QByteArray &body, const QByteArray &hmacKey = {},
                const QByteArray &signature = {});
    int deliver(const QUrl &webhook, const QJsonObject &event, const QByteArray &hmacKey = {});

Q_SIGNALS:
    void requestReceived(int index);

private:
    void onNewConnection();
    void respond(QTcpSocket *socket, FakeWahaRequest &request);

    QTcpServer *m_server = nullptr;
    QNetworkAccessManager *m_network = nullptr;
    Script m_script;
    QList<FakeWahaRequest> m_requests;
    int m_faultsServed = 0;
    int m_nextMessage = 1;
};

} // namespace apex::test
