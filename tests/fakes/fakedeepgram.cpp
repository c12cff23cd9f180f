#include "fakedeepgram.h"

#include "fakedeepgramsession.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QUuid>
#include <QWebSocket>

namespace apex::test {

namespace {

constexpr qsizetype kMaxUpgradeBytes = 16 * 1024;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

} // namespace

FakeDeepgram::FakeDeepgram(QObject *parent)
    : QObject(parent)
    , m_webSockets(QStringLiteral("fake-deepgram"), QWebSocketServer::NonSecureMode)
{
    connect(&m_tcp, &QTcpServer::newConnection, this, &FakeDeepgram::onTcpConnection);
    connect(&m_webSockets, &QWebSocketServer::newConnection, this, &FakeDeepgram::onWebSocketConnection);
}

FakeDeepgram::~FakeDeepgram()
{
    // Before the members go: a session's socket reports into m_connections.
    qDeleteAll(findChildren<FakeDeepgramSession *>(Qt::FindDirectChildrenOnly));
}

bool FakeDeepgram::listen(quint16 port)
{
    return m_tcp.listen(QHostAddress::LocalHost, port);
}

QUrl FakeDeepgram::url() const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/v1/listen").arg(m_tcp.serverPort()));
}

int FakeDeepgram::connectionCount() const
{
    int count = 0;
    for (const Connection &connection : m_connections)
        count += connection.accepted ? 1 : 0;
    return count;
}

int FakeDeepgram::openConnectionCount() const
{
    int count = 0;
    for (const Connection &connection : m_connections)
        count += connection.open ? 1 : 0;
    return count;
}

QByteArray FakeDeepgram::allAudio() const
{
    QByteArray audio;
    for (const Connection &connection : m_connections)
        audio.append(connection.audio);
    return audio;
}

namespace {
int countType(const QStringList &messages, const QString &type)
{
    int count = 0;
    for (const QString &message : messages)
        count += QJsonDocument::fromJson(message.toUtf8()).object().value(QLatin1String("type")).toString() == type ? 1 : 0;
    return count;
}
} // namespace

int FakeDeepgram::textMessageCount(const QString &type) const
{
    int count = 0;
    for (const Connection &connection : m_connections)
        count += countType(connection.textMessages, type);
    return count;
}

int FakeDeepgram::sentMessageCount(const QString &type) const
{
    int count = 0;
    for (const Connection &connection : m_connections)
        count += countType(connection.sentMessages, type);
    return count;
}

QStringList *FakeDeepgram::currentUtterance()
{
    return m_script.isEmpty() ? nullptr : &m_script.head();
}

void FakeDeepgram::finishUtterance()
{
    if (!m_script.isEmpty())
        m_script.dequeue();
}

void FakeDeepgram::onTcpConnection()
{
    while (QTcpSocket *socket = m_tcp.nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onUpgradeBytes(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void FakeDeepgram::onUpgradeBytes(QTcpSocket *socket)
{
    const QByteArray head = socket->peek(kMaxUpgradeBytes);
    const qsizetype end = head.indexOf("\r\n\r\n");
    if (end < 0) {
        if (head.size() >= kMaxUpgradeBytes)
            socket->abort();
        return;
    }
    disconnect(socket, &QTcpSocket::readyRead, this, nullptr);

    Connection connection;
    const QList<QByteArray> lines = head.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    const QUrl target(QStringLiteral("http://127.0.0.1") + QString::fromUtf8(requestLine.value(1)));
    connection.path = target.path();
    connection.query = QUrlQuery(target);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            connection.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
    }
    const int index = int(m_connections.size());
    m_connections.append(connection);

    if (m_faults.refuseHandshakeStatus > 0) {
        refuse(socket, m_faults.refuseHandshakeStatus, "FAULT", QStringLiteral("Injected failure."));
        return;
    }
    if (connection.path != QLatin1String("/v1/listen")) {
        refuse(socket, 404, "NOT_FOUND", QStringLiteral("Unknown path."));
        return;
    }
    if (connection.headers.value("authorization") != "Token " + m_options.apiKey.toUtf8()) {
        refuse(socket, 401, "INVALID_AUTH", QStringLiteral("Invalid credentials."));
        return;
    }
    m_pendingByPeerPort.insert(socket->peerPort(), index);
    disconnect(socket, &QTcpSocket::disconnected, socket, nullptr);
    // QWebSocketServer reads the upgrade still buffered in the socket (peek left it there).
    m_webSockets.handleConnection(socket);
}

void FakeDeepgram::refuse(QTcpSocket *socket, int status, const QByteArray &error, const QString &message)
{
    m_connections.last().refusedWithStatus = status;
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("err_code"), QString::fromLatin1(error)},
                                                      {QStringLiteral("err_msg"), message},
                                                      {QStringLiteral("request_id"), QUuid::createUuid().toString(QUuid::WithoutBraces)}})
                                .toJson(QJsonDocument::Compact);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    response += "Content-Type: application/json\r\n";
    response += "dg-error: " + message.toUtf8() + "\r\n";
    response += "dg-request-id: " + QUuid::createUuid().toByteArray(QUuid::WithoutBraces) + "\r\n";
    response += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    response += "Connection: close\r\n\r\n";
    response += body;
    socket->write(response);
    socket->disconnectFromHost(); // after the response is written
}

void FakeDeepgram::onWebSocketConnection()
{
    while (QWebSocket *socket = m_webSockets.nextPendingConnection()) {
        const int index = m_pendingByPeerPort.take(socket->peerPort());
        const int accepted = connectionCount(); // connections opened before this one
        m_connections[index].open = true;
        m_connections[index].accepted = true;
        const bool dropFault = accepted < m_faults.dropConnections;
        new FakeDeepgramSession(this, socket, index, dropFault);
        Q_EMIT connectionOpened(index);
    }
}

} // namespace apex::test
