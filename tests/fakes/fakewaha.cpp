#include "fakewaha.h"

#include "whatsapp/webhooksignature.h"

#include <QDateTime>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUuid>

namespace apex::test {

namespace {

constexpr qsizetype kMaxRequestBytes = 1024 * 1024;

void answer(QTcpSocket *socket, int status, const QByteArray &reason, const QByteArray &json)
{
    socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n"
                  "Content-Type: application/json; charset=utf-8\r\n"
                  "Content-Length: " + QByteArray::number(json.size()) + "\r\n"
                  "Connection: close\r\n\r\n" + json);
    socket->disconnectFromHost();
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

QByteArray FakeWahaRequest::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

FakeWaha::FakeWaha(QObject *parent)
    : QObject(parent)
    , m_server(new QTcpServer(this))
    , m_network(new QNetworkAccessManager(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &FakeWaha::onNewConnection);
}

FakeWaha::~FakeWaha()
{
    for (QTcpSocket *socket : m_server->findChildren<QTcpSocket *>())
        socket->disconnect();
    delete m_server;
}

bool FakeWaha::start(quint16 port)
{
    return m_server->listen(QHostAddress::LocalHost, port);
}

quint16 FakeWaha::port() const
{
    return m_server->serverPort();
}

QString FakeWaha::url() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(port());
}

QList<FakeWahaRequest> FakeWaha::sentTexts(const QString &chatId) const
{
    QList<FakeWahaRequest> out;
    for (const FakeWahaRequest &r : m_requests) {
        if (r.path == "/api/sendText" && r.status == 201 && (chatId.isEmpty() || r.chatId() == chatId))
            out << r;
    }
    return out;
}

int FakeWaha::requestCount(const QByteArray &path) const
{
    return int(std::count_if(m_requests.cbegin(), m_requests.cend(), [&](const FakeWahaRequest &r) { return r.path == path; }));
}

void FakeWaha::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        auto *buffer = new QObject(socket); // holds the request bytes as a property
        connect(socket, &QTcpSocket::readyRead, buffer, [this, socket, buffer] {
            QByteArray in = buffer->property("in").toByteArray() + socket->readAll();
            buffer->setProperty("in", in);
            if (buffer->property("seen").toBool())
                return;
            if (in.size() > kMaxRequestBytes) {
                socket->abort();
                return;
            }
            const qsizetype headerEnd = in.indexOf("\r\n\r\n");
            if (headerEnd < 0)
                return;
            FakeWahaRequest request;
            const QList<QByteArray> lines = in.left(headerEnd).split('\n');
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            request.method = requestLine.value(0);
            request.path = requestLine.value(1);
            qsizetype contentLength = 0;
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines[i].trimmed();
                const qsizetype colon = line.indexOf(':');
                if (colon <= 0)
                    continue;
                const QByteArray name = line.left(colon).trimmed();
                const QByteArray value = line.mid(colon + 1).trimmed();
                request.headers.append({name, value});
                if (name.compare("content-length", Qt::CaseInsensitive) == 0)
                    contentLength = value.toLongLong();
            }
            if (in.size() - (headerEnd + 4) < contentLength)
                return;
            request.body = in.mid(headerEnd + 4, contentLength);
            request.json = QJsonDocument::fromJson(request.body).object();
            buffer->setProperty("seen", true);
            respond(socket, request);
        });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void FakeWaha::respond(QTcpSocket *socket, FakeWahaRequest &request)
{
    const Script &s = m_script;
    m_requests.append(request);
    const int index = int(m_requests.size() - 1);
    auto finish = [&](int status, const QByteArray &reason, const QByteArray &json) {
        m_requests[index].status = status;
        answer(socket, status, reason, json);
    };
    const bool known = request.path == "/api/sendText" || request.path == "/api/startTyping"
                    || request.path == "/api/stopTyping" || request.path.startsWith("/api/sessions");
    if (!known) {
        finish(404, "Not Found", R"({"message":"Cannot )" + request.method + ' ' + request.path + R"(","error":"Not Found","statusCode":404})");
    } else if (!s.apiKey.isEmpty() && request.header("X-Api-Key") != s.apiKey.toUtf8()) {
        finish(401, "Unauthorized", R"({"message":"Unauthorized","statusCode":401})");
    } else if (s.fault != Fault::None && (s.faultPath.isEmpty() || request.path == s.faultPath)
               && (s.faultTimes < 0 || m_faultsServed < s.faultTimes)) {
        ++m_faultsServed;
        if (s.fault == Fault::ServerError)
            finish(500, "Internal Server Error", R"({"statusCode":500,"message":"Internal server error"})");
        // Stall: the request was read; nothing is ever sent back.
    } else if (request.path.startsWith("/api/sessions") && request.method == "GET") {
        QJsonArray sessions;
        sessions.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("default")}, {QStringLiteral("status"), QStringLiteral("WORKING")}});
        finish(200, "OK", QJsonDocument(sessions).toJson(QJsonDocument::Compact));
    } else if (request.method != "POST") {
        finish(404, "Not Found", R"({"message":"Cannot )" + request.method + ' ' + request.path + R"(","error":"Not Found","statusCode":404})");
    } else if (s.coreOnlyDefault && request.session() != QLatin1String("default")) {
        // WAHA Core's answer before 2026.6.1 (src/core/manager.core.ts), word for word in shape.
        const QString name = request.session();
        const QString message = QStringLiteral("WAHA Core support only 'default' session. You tried to access '%1' session "
                                               "(base64: %2). If you want to run more then one WhatsApp account - please get "
                                               "WAHA PLUS version. Check this out: https://waha.devlike.pro/")
                                    .arg(name, QString::fromLatin1(name.toUtf8().toBase64()));
        finish(422, "Unprocessable Entity",
               compact(QJsonObject{{QStringLiteral("message"), message},
                                   {QStringLiteral("error"), QStringLiteral("Unprocessable Entity")},
                                   {QStringLiteral("statusCode"), 422}}));
    } else if (s.stoppedSessions.contains(request.session())) {
        finish(422, "Unprocessable Entity",
               compact(QJsonObject{{QStringLiteral("error"), QStringLiteral("Session status is not as expected. Try again later or restart the session")},
                                   {QStringLiteral("session"), request.session()},
                                   {QStringLiteral("status"), QStringLiteral("STOPPED")},
                                   {QStringLiteral("expected"), QJsonArray{QStringLiteral("WORKING")}}}));
    } else if (request.path == "/api/sendText") {
        const QString id = QStringLiteral("true_%1_3EB0%2").arg(request.chatId()).arg(m_nextMessage++, 16, 16, QLatin1Char('0'));
        finish(201, "Created",
               compact(QJsonObject{{QStringLiteral("id"), id},
                                   {QStringLiteral("timestamp"), QDateTime::currentSecsSinceEpoch()},
                                   {QStringLiteral("from"), QStringLiteral("15550100200@c.us")},
                                   {QStringLiteral("to"), request.chatId()},
                                   {QStringLiteral("fromMe"), true},
                                   {QStringLiteral("body"), request.text()},
                                   {QStringLiteral("hasMedia"), false},
                                   {QStringLiteral("ack"), 1}}));
    } else {
        finish(201, "Created", "true");
    }
    Q_EMIT requestReceived(index);
}

QJsonObject FakeWaha::messageEvent(const QString &session, const QString &from, const QString &body, const MessageOptions &options)
{
    const QString id = options.id.isEmpty()
                           ? QStringLiteral("false_%1_3EB0%2").arg(from, QUuid::createUuid().toString(QUuid::Id128).left(16).toUpper())
                           : options.id;
    return QJsonObject{
        {QStringLiteral("id"), QStringLiteral("evt_") + QUuid::createUuid().toString(QUuid::Id128)},
        {QStringLiteral("timestamp"), QDateTime::currentMSecsSinceEpoch()},
        {QStringLiteral("event"), options.event},
        {QStringLiteral("session"), session},
        {QStringLiteral("metadata"), QJsonObject{}},
        {QStringLiteral("me"), QJsonObject{{QStringLiteral("id"), options.to}, {QStringLiteral("pushName"), QStringLiteral("Clinic")}}},
        {QStringLiteral("engine"), QStringLiteral("WEBJS")},
        {QStringLiteral("environment"), QJsonObject{{QStringLiteral("version"), QStringLiteral("2025.2.1")},
                                                    {QStringLiteral("engine"), QStringLiteral("WEBJS")},
                                                    {QStringLiteral("tier"), QStringLiteral("CORE")}}},
        {QStringLiteral("payload"),
         QJsonObject{{QStringLiteral("id"), id},
                     {QStringLiteral("timestamp"), QDateTime::currentSecsSinceEpoch()},
                     {QStringLiteral("from"), options.fromMe ? options.to : from},
                     {QStringLiteral("fromMe"), options.fromMe},
                     {QStringLiteral("source"), options.fromMe ? QStringLiteral("api") : QStringLiteral("app")},
                     {QStringLiteral("to"), options.fromMe ? from : options.to},
                     {QStringLiteral("body"), body},
                     {QStringLiteral("hasMedia"), options.hasMedia},
                     {QStringLiteral("media"), QJsonValue::Null},
                     {QStringLiteral("ack"), 1},
                     {QStringLiteral("ackName"), QStringLiteral("SERVER")},
                     {QStringLiteral("_data"), QJsonObject{}}}},
    };
}

int FakeWaha::deliver(const QUrl &webhook, const QJsonObject &event, const QByteArray &hmacKey)
{
    return deliver(webhook, QJsonDocument(event).toJson(QJsonDocument::Compact), hmacKey);
}

int FakeWaha::deliver(const QUrl &webhook, const QByteArray &body, const QByteArray &hmacKey, const QByteArray &signature)
{
    QNetworkRequest request(webhook);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArray("WAHA/" + m_script.version.toUtf8()));
    request.setRawHeader("X-Webhook-Request-Id", QUuid::createUuid().toByteArray(QUuid::WithoutBraces));
    request.setRawHeader("X-Webhook-Timestamp", QByteArray::number(QDateTime::currentMSecsSinceEpoch()));
    const QByteArray hmac = !signature.isEmpty() ? signature : hmacKey.isEmpty() ? QByteArray() : waha::sign(hmacKey, body);
    if (!hmac.isEmpty()) {
        request.setRawHeader("X-Webhook-Hmac", hmac);
        request.setRawHeader("X-Webhook-Hmac-Algorithm", "sha512");
    }
    QNetworkReply *reply = m_network->post(request, body);
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(5000, &loop, &QEventLoop::quit);
    loop.exec();
    const int status = reply->isFinished() ? reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() : 0;
    reply->abort();
    reply->deleteLater();
    return status;
}

} // namespace apex::test
