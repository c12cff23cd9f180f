// The listening server facing a hostile network, on 127.0.0.1: only Twilio's
// signed webhook and the streams it announced get in, every size, framing and
// time limit holds, operator routes stay closed, and a good call placed beside
// each probe keeps streaming. Every check is on behaviour (status, close code,
// what reached the handler), never on how long something took.

#include "http/apexserver.h"
#include "observability/logging.h"
#include "telephony/streamtoken.h"
#include "telephony/twiliomedialeg.h"
#include "telephony/twiliomessages.h"
#include "telephony/twiliosignature.h"

#include <QDateTime>
#include <QScopeGuard>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>
#include <QWebSocket>
#include <QXmlStreamReader>

#include <spdlog/sinks/ringbuffer_sink.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memory>
#include <vector>

using namespace apex;

namespace {

constexpr char kAuthToken[] = "0123456789abcdef0123456789abcdef";
constexpr char kOperatorToken[] = "operator-secret-5d1c";
const QString kTenant = QStringLiteral("acme");
const QString kNumber = QStringLiteral("+15550001000");

NetworkLimits shortLimits()
{
    NetworkLimits limits;
    limits.streamStartTimeoutMs = 400;
    limits.streamMediaTimeoutMs = 400;
    limits.requestHeaderTimeoutMs = 400;
    limits.requestBodyTimeoutMs = 400;
    // Other tests read log lines; only logLinesAreThrottled() tightens this.
    limits.logLinesPerSecondPerRemote = 100'000;
    return limits;
}

QByteArray formBody(const QString &callSid, const QString &from, const QString &to = kNumber)
{
    return "AccountSid=AC0123&CallSid=" + QUrl::toPercentEncoding(callSid) + "&From=" + QUrl::toPercentEncoding(from)
           + "&To=" + QUrl::toPercentEncoding(to);
}

struct Twiml
{
    bool wellFormed = false;
    QString streamUrl;
    QMap<QString, QString> parameters;
};

Twiml readTwiml(const QByteArray &xml)
{
    Twiml twiml;
    QXmlStreamReader reader(xml);
    while (!reader.atEnd()) {
        if (reader.readNext() != QXmlStreamReader::StartElement)
            continue;
        if (reader.name() == QLatin1String("Stream"))
            twiml.streamUrl = reader.attributes().value(QLatin1String("url")).toString();
        else if (reader.name() == QLatin1String("Parameter"))
            twiml.parameters.insert(reader.attributes().value(QLatin1String("name")).toString(),
                                    reader.attributes().value(QLatin1String("value")).toString());
    }
    twiml.wellFormed = !reader.hasError();
    return twiml;
}

// A plain TCP client, for requests QNetworkAccessManager would never send.
struct RawClient
{
    QTcpSocket socket;
    QByteArray received;
    bool disconnected = false;

    explicit RawClient(quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this] { received += socket.readAll(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [this] { disconnected = true; });
        QObject::connect(&socket, &QTcpSocket::errorOccurred, &socket, [this] {
            if (socket.state() != QAbstractSocket::ConnectedState)
                disconnected = true;
        });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }

    // A complete response (head plus Content-Length body), or the end of the connection.
    bool answered() const
    {
        const qsizetype headEnd = received.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return disconnected;
        const QByteArray length = header("Content-Length");
        return disconnected || received.size() >= headEnd + 4 + length.toLongLong();
    }
    int status() const
    {
        return received.startsWith("HTTP/1.1 ") ? received.mid(9, 3).toInt() : 0;
    }
    QByteArray header(const QByteArray &name) const
    {
        const qsizetype headEnd = received.indexOf("\r\n\r\n");
        for (const QByteArray &line : received.left(headEnd).split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
    QByteArray body() const
    {
        const qsizetype headEnd = received.indexOf("\r\n\r\n");
        return headEnd < 0 ? QByteArray() : received.mid(headEnd + 4);
    }
};

// Twilio's side of one media stream.
struct StreamClient
{
    QWebSocket socket;
    bool closed = false;
    int closeCode = -1;
    QString closeReason;
    QString callSid;
    QString streamSid;
    int sequence = 0;
    QTimer pump; // 20 ms media, as Twilio sends even in silence

    StreamClient()
    {
        QObject::connect(&socket, &QWebSocket::disconnected, &socket, [this] {
            closed = true;
            closeCode = socket.closeCode();
            closeReason = socket.closeReason();
            pump.stop();
        });
        pump.setInterval(20);
        QObject::connect(&pump, &QTimer::timeout, &socket, [this] { sendMedia(); });
    }

    void sendStart(const QMap<QString, QString> &parameters)
    {
        streamSid = QStringLiteral("MZ") + callSid.mid(2);
        socket.sendTextMessage(QString::fromUtf8(twilio::toJson(twilio::ConnectedEvent{})));
        twilio::StartEvent start;
        start.sequenceNumber = ++sequence;
        start.streamSid = streamSid;
        start.accountSid = QStringLiteral("AC0123");
        start.callSid = callSid;
        start.customParameters = parameters;
        socket.sendTextMessage(QString::fromUtf8(twilio::toJson(start)));
    }

    void sendMedia()
    {
        twilio::MediaEvent media;
        media.sequenceNumber = ++sequence;
        media.streamSid = streamSid;
        media.chunk = sequence;
        media.payload = QByteArray(160, char(0xFF));
        socket.sendTextMessage(QString::fromUtf8(twilio::toJson(media)));
    }
};

int countOpenDescriptorsBelow(int limit)
{
    int open = 0;
    for (int fd = 0; fd < limit; ++fd)
        open += ::fcntl(fd, F_GETFD) != -1 ? 1 : 0;
    return open;
}

} // namespace

class TestHostileNetwork : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<ApexServer> m_server;
    std::vector<std::unique_ptr<TwilioMediaLeg>> m_legs;
    QHash<QString, QString> m_startedTenant; // callSid -> tenant of each leg that started
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> m_logSink;
    int m_statsServed = 0;

    void startServer(const NetworkLimits &limits, const QString &authToken, const QString &operatorToken)
    {
        m_legs.clear();
        m_startedTenant.clear();
        m_statsServed = 0;
        m_server = std::make_unique<ApexServer>();
        m_server->setLimits(limits);
        m_server->setTwilioAuthToken(authToken);
        m_server->setOperatorToken(operatorToken);
        m_server->setTenantResolver([](const QString &to) { return to == kNumber ? kTenant : QString(); });
        m_server->http().route(QStringLiteral("/stats"), QHttpServerRequest::Method::Get, [this] {
            ++m_statsServed;
            return QHttpServerResponse(QJsonObject{{QStringLiteral("liveCalls"), 0}});
        });
        connect(m_server.get(), &ApexServer::newCall, this, [this](TwilioMediaLeg *leg) {
            m_legs.emplace_back(leg);
            connect(leg, &CallLeg::started, this, [this](const CallStartInfo &info) {
                m_startedTenant.insert(info.callId, info.parameters.value(QStringLiteral("tenant")));
            });
        });
        QString error;
        QVERIFY2(m_server->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    }

    quint16 port() const { return m_server->serverPort(); }
    QString webhookUrl() const { return QStringLiteral("http://127.0.0.1:%1/twilio/voice").arg(port()); }

    QByteArray sign(const QByteArray &body, const QString &url = {}) const
    {
        return twilio::computeSignature(kAuthToken, url.isEmpty() ? webhookUrl() : url, twilio::parseFormBody(body));
    }

    // POSTs the voice webhook over a raw socket, exactly as written.
    void postWebhook(const QByteArray &body, const QByteArray &signature, int *status, QByteArray *answer)
    {
        RawClient client(port());
        QByteArray request = "POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port())
                             + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                             + QByteArray::number(body.size()) + "\r\n";
        if (!signature.isNull())
            request += "X-Twilio-Signature: " + signature + "\r\n";
        client.socket.write(request + "\r\n" + body);
        QTRY_VERIFY_WITH_TIMEOUT(client.answered(), 5000);
        *status = client.status();
        *answer = client.body();
    }

    void sendRaw(const QByteArray &request, RawClient *client)
    {
        client->socket.write(request);
        QTRY_VERIFY_WITH_TIMEOUT(client->answered(), 5000);
    }

    void openStream(StreamClient *client)
    {
        QSignalSpy connected(&client->socket, &QWebSocket::connected);
        client->socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/twilio/media").arg(port())));
        QVERIFY(connected.wait(5000));
    }

    // A signed webhook for callSid; the TwiML's parameters.
    void announce(const QString &callSid, QMap<QString, QString> *parameters)
    {
        const QByteArray body = formBody(callSid, QStringLiteral("+15557770000"));
        int status = 0;
        QByteArray answer;
        postWebhook(body, sign(body), &status, &answer);
        QCOMPARE(status, 200);
        const Twiml twiml = readTwiml(answer);
        QVERIFY(twiml.wellFormed);
        *parameters = twiml.parameters;
    }

    // Webhook, stream, start with the TwiML's parameters, media every 20 ms:
    // answered once the leg has started.
    void placeGoodCall(const QString &callSid, StreamClient *call)
    {
        QMap<QString, QString> parameters;
        announce(callSid, &parameters);
        if (QTest::currentTestFailed())
            return;
        openStream(call);
        if (QTest::currentTestFailed())
            return;
        call->callSid = callSid;
        call->sendStart(parameters);
        call->pump.start();
        QTRY_VERIFY_WITH_TIMEOUT(m_startedTenant.contains(callSid), 5000);
    }

    TwilioMediaLeg *legOf(const QString &callSid) const
    {
        for (const auto &leg : m_legs) {
            if (leg->startInfo().callId == callSid)
                return leg.get();
        }
        return nullptr;
    }

    void verifyStillStreaming(const StreamClient &call)
    {
        QVERIFY2(!call.closed, qPrintable(call.closeReason));
        TwilioMediaLeg *leg = legOf(call.callSid);
        QVERIFY(leg);
        QCOMPARE(leg->state(), TwilioMediaLeg::State::Streaming);
    }

    int logLinesContaining(const QString &needle) const
    {
        int count = 0;
        for (const std::string &line : m_logSink->last_formatted())
            count += QString::fromStdString(line).contains(needle) ? 1 : 0;
        return count;
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<CallStartInfo>();
        qRegisterMetaType<CallEndReason>();
        m_logSink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(2048);
        for (const char *concern : {"twilio", "http"})
            log::get(concern)->sinks().push_back(m_logSink);
    }

    void init()
    {
        startServer(shortLimits(), QString::fromLatin1(kAuthToken), QString::fromLatin1(kOperatorToken));
    }

    void cleanup()
    {
        m_legs.clear();
        m_server.reset();
    }

    void signedWebhook_data()
    {
        QTest::addColumn<QString>("signing");
        QTest::addColumn<int>("status");
        QTest::newRow("signed") << "signed" << 200;
        QTest::newRow("signed without the port") << "no port" << 200;
        QTest::newRow("no signature") << "missing" << 403;
        QTest::newRow("empty signature") << "empty" << 403;
        QTest::newRow("another token") << "forged" << 403;
        QTest::newRow("another URL") << "other url" << 403;
        QTest::newRow("body changed after signing") << "tampered" << 403;
    }

    void signedWebhook()
    {
        QFETCH(QString, signing);
        QFETCH(int, status);
        const QByteArray body = formBody(QStringLiteral("CA100"), QStringLiteral("+15557770000"));
        QByteArray signature;
        QByteArray sent = body;
        if (signing == QLatin1String("signed"))
            signature = sign(body);
        else if (signing == QLatin1String("no port")) // Twilio's validators accept it: so do we
            signature = sign(body, QStringLiteral("http://127.0.0.1/twilio/voice"));
        else if (signing == QLatin1String("empty"))
            signature = "";
        else if (signing == QLatin1String("forged"))
            signature = twilio::computeSignature("not-our-token", webhookUrl(), twilio::parseFormBody(body));
        else if (signing == QLatin1String("other url"))
            signature = sign(body, QStringLiteral("https://elsewhere.example/twilio/voice"));
        else if (signing == QLatin1String("tampered")) {
            signature = sign(body);
            sent = formBody(QStringLiteral("CA100"), QStringLiteral("+15557779999"));
        }
        int answeredStatus = 0;
        QByteArray answer;
        postWebhook(sent, signature, &answeredStatus, &answer);
        QCOMPARE(answeredStatus, status);
        if (status == 200) {
            const Twiml twiml = readTwiml(answer);
            QVERIFY(twiml.wellFormed);
            QCOMPARE(twiml.parameters.value(QStringLiteral("tenant")), kTenant);
            QVERIFY(!twiml.parameters.value(QString::fromLatin1(TwilioMediaLeg::kTokenParameter)).isEmpty());
        } else {
            QVERIFY(!answer.contains("<Stream"));
            QCOMPARE(m_server->networkStats().value(QStringLiteral("webhookSignaturesRefused")).toInt(), 1);
        }
    }

    // QHttpServer 6.4 gives no raw request target; the URL signed is rebuilt
    // from the parsed one, which must reproduce the query Twilio sent.
    void signatureCoversTheQuery_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::newRow("plain") << QByteArray("/twilio/voice?site=eu-1");
        QTest::newRow("two fields") << QByteArray("/twilio/voice?site=eu-1&tenant=acme");
        QTest::newRow("escaped slash") << QByteArray("/twilio/voice?next=%2Fdone");
        QTest::newRow("escaped space and plus") << QByteArray("/twilio/voice?a=b%20c&d=e+f");
        QTest::newRow("empty value") << QByteArray("/twilio/voice?flag=&x=1");
    }

    void signatureCoversTheQuery()
    {
        QFETCH(QByteArray, target);
        const QByteArray body = formBody(QStringLiteral("CA102"), QStringLiteral("+15557770000"));
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(port()) + QString::fromLatin1(target);
        RawClient client(port());
        sendRaw("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port())
                    + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                    + QByteArray::number(body.size()) + "\r\nX-Twilio-Signature: " + sign(body, url) + "\r\n\r\n" + body,
                &client);
        QCOMPARE(client.status(), 200);
    }

    void publicUrlIsWhatIsSigned()
    {
        // Behind a proxy: Twilio signed https://voice.example/..., we see http://127.0.0.1:port/...
        m_server->setPublicUrl(QStringLiteral("https://voice.example"));
        const QByteArray body = formBody(QStringLiteral("CA101"), QStringLiteral("+15557770000"));
        int status = 0;
        QByteArray answer;
        postWebhook(body, sign(body, QStringLiteral("https://voice.example/twilio/voice")), &status, &answer);
        QCOMPARE(status, 200);
        QCOMPARE(readTwiml(answer).streamUrl, QStringLiteral("wss://voice.example/twilio/media"));
        postWebhook(body, sign(body), &status, &answer); // the URL as we saw it is not what Twilio signed
        QCOMPARE(status, 403);
    }

    void streamToken_data()
    {
        QTest::addColumn<QString>("probe");
        QTest::addColumn<bool>("answered");
        QTest::newRow("valid") << "valid" << true;
        QTest::newRow("caller's tenant ignored") << "tenant override" << true;
        QTest::newRow("no token") << "missing" << false;
        QTest::newRow("garbage") << "garbage" << false;
        QTest::newRow("another key") << "forged" << false;
        QTest::newRow("expired") << "expired" << false;
        QTest::newRow("replayed") << "replayed" << false;
        QTest::newRow("minted for another call") << "other call" << false;
    }

    void streamToken()
    {
        QFETCH(QString, probe);
        QFETCH(bool, answered);

        StreamClient good;
        placeGoodCall(QStringLiteral("CA200"), &good);
        if (QTest::currentTestFailed())
            return;

        const QString callSid = QStringLiteral("CA201");
        QMap<QString, QString> parameters;
        announce(callSid, &parameters);
        const QString tokenName = QString::fromLatin1(TwilioMediaLeg::kTokenParameter);
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        StreamClient first; // the stream that consumes the token, for "replayed"
        QString sentCallSid = callSid;
        if (probe == QLatin1String("tenant override")) {
            parameters.insert(QStringLiteral("tenant"), QStringLiteral("someone-else"));
        } else if (probe == QLatin1String("missing")) {
            parameters.remove(tokenName);
        } else if (probe == QLatin1String("garbage")) {
            parameters.insert(tokenName, QStringLiteral("not-a-token"));
        } else if (probe == QLatin1String("forged")) {
            StreamTokenIssuer other(StreamTokenIssuer::randomKey());
            parameters.insert(tokenName, other.issue(kTenant, callSid));
        } else if (probe == QLatin1String("expired")) {
            StreamTokenIssuer same(StreamTokenIssuer::derivedKey(kAuthToken));
            parameters.insert(tokenName, same.issue(kTenant, callSid, now - 3'600'000));
        } else if (probe == QLatin1String("replayed")) {
            openStream(&first);
            first.callSid = callSid;
            first.sendStart(parameters);
            first.pump.start();
            QTRY_VERIFY_WITH_TIMEOUT(m_startedTenant.contains(callSid), 5000);
            m_startedTenant.remove(callSid);
        } else if (probe == QLatin1String("other call")) {
            sentCallSid = QStringLiteral("CA202");
        }

        StreamClient stream;
        openStream(&stream);
        stream.callSid = sentCallSid;
        stream.sendStart(parameters);
        stream.pump.start();
        if (answered) {
            QTRY_VERIFY_WITH_TIMEOUT(m_startedTenant.contains(sentCallSid), 5000);
            // The tenant is the one the webhook resolved, whatever the stream said.
            QCOMPARE(m_startedTenant.value(sentCallSid), kTenant);
            QVERIFY(!legOf(sentCallSid)->startInfo().parameters.contains(tokenName));
        } else {
            QTRY_VERIFY_WITH_TIMEOUT(stream.closed, 5000);
            QCOMPARE(stream.closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
            QVERIFY2(stream.closeReason.contains(QLatin1String("token")), qPrintable(stream.closeReason));
            QVERIFY(!m_startedTenant.contains(sentCallSid));
        }
        verifyStillStreaming(good);
    }

    void withoutAuthTokenStreamsAreOpen()
    {
        // Today's behaviour when no token is configured: the demo call and apex-call work unchanged.
        startServer(shortLimits(), QString(), QString());
        const QByteArray body = formBody(QStringLiteral("CA300"), QStringLiteral("+15557770000"));
        int status = 0;
        QByteArray answer;
        postWebhook(body, QByteArray(), &status, &answer);
        QCOMPARE(status, 200);
        QVERIFY(!readTwiml(answer).parameters.contains(QString::fromLatin1(TwilioMediaLeg::kTokenParameter)));
        StreamClient stream;
        openStream(&stream);
        stream.callSid = QStringLiteral("CA301");
        stream.sendStart({{QStringLiteral("tenant"), QStringLiteral("whoever")}});
        stream.pump.start();
        QTRY_VERIFY_WITH_TIMEOUT(m_startedTenant.contains(stream.callSid), 5000);
        QCOMPARE(m_startedTenant.value(stream.callSid), QStringLiteral("whoever"));
        QVERIFY(logLinesContaining(QStringLiteral("accepting unsigned voice webhooks")) >= 1);
    }

    void streamTimeouts_data()
    {
        QTest::addColumn<bool>("sendStart");
        QTest::addColumn<QString>("reason");
        QTest::newRow("never sends start") << false << "no start";
        QTest::newRow("start, then no media") << true << "no media";
    }

    void streamTimeouts()
    {
        QFETCH(bool, sendStart);
        QFETCH(QString, reason);
        StreamClient good;
        placeGoodCall(QStringLiteral("CA400"), &good);
        if (QTest::currentTestFailed())
            return;

        StreamClient silent;
        if (sendStart) {
            QMap<QString, QString> parameters;
            announce(QStringLiteral("CA401"), &parameters);
            openStream(&silent);
            silent.callSid = QStringLiteral("CA401");
            silent.sendStart(parameters);
            QTRY_VERIFY_WITH_TIMEOUT(m_startedTenant.contains(silent.callSid), 5000);
        } else {
            openStream(&silent);
        }
        QTRY_VERIFY_WITH_TIMEOUT(silent.closed, 10000);
        QCOMPARE(silent.closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
        QVERIFY2(silent.closeReason.contains(reason), qPrintable(silent.closeReason));
        verifyStillStreaming(good);
    }

    void operatorRoutesNeedTheToken_data()
    {
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<int>("status");
        QTest::newRow("none") << QByteArray() << 401;
        QTest::newRow("wrong token") << QByteArray("Bearer not-the-token") << 401;
        QTest::newRow("token as prefix") << QByteArray("Bearer ") + kOperatorToken + "x" << 401;
        QTest::newRow("basic") << QByteArray("Basic b3BlcmF0b3I6c2VjcmV0") << 401;
        QTest::newRow("right token") << QByteArray("Bearer ") + kOperatorToken << 200;
        QTest::newRow("scheme in lower case") << QByteArray("bearer ") + kOperatorToken << 200;
    }

    void operatorRoutesNeedTheToken()
    {
        QFETCH(QByteArray, authorization);
        QFETCH(int, status);
        RawClient client(port());
        QByteArray request = "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (!authorization.isEmpty())
            request += "Authorization: " + authorization + "\r\n";
        sendRaw(request + "\r\n", &client);
        QCOMPARE(client.status(), status);
        QCOMPARE(m_statsServed, status == 200 ? 1 : 0);
        if (status == 401)
            QCOMPARE(client.header("WWW-Authenticate"), QByteArray("Bearer"));
    }

    void operatorRoutesWithoutTokenAreLoopbackOnly_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("extraHeader");
        QTest::addColumn<int>("status");
        QTest::newRow("loopback") << QByteArray("/stats") << QByteArray() << 200;
        QTest::newRow("forwarded by a proxy") << QByteArray("/stats") << QByteArray("X-Forwarded-For: 203.0.113.9\r\n") << 403;
        QTest::newRow("Forwarded") << QByteArray("/stats") << QByteArray("Forwarded: for=203.0.113.9\r\n") << 403;
        QTest::newRow("healthz is public") << QByteArray("/healthz") << QByteArray("X-Forwarded-For: 203.0.113.9\r\n") << 200;
        QTest::newRow("unknown route, forwarded") << QByteArray("/admin") << QByteArray("X-Forwarded-For: 203.0.113.9\r\n") << 403;
        QTest::newRow("unknown route, loopback") << QByteArray("/admin") << QByteArray() << 404;
    }

    void operatorRoutesWithoutTokenAreLoopbackOnly()
    {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, extraHeader);
        QFETCH(int, status);
        startServer(shortLimits(), QString::fromLatin1(kAuthToken), QString());
        RawClient client(port());
        sendRaw("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extraHeader + "\r\n", &client);
        QCOMPARE(client.status(), status);
    }

    void refusedRequests_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        const QByteArray body = formBody(QStringLiteral("CA500"), QStringLiteral("+15557770000"));
        const QByteArray head = "POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        const QByteArray length = "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        QTest::newRow("declared body over 64 KB") << head + "Content-Length: 1048576\r\n\r\n" + QByteArray(8192, 'a') << 413;
        QTest::newRow("two Content-Length") << head + length + length + "\r\n" + body << 400;
        QTest::newRow("two differing Content-Length") << head + length + "Content-Length: 3\r\n\r\n" + body << 400;
        QTest::newRow("Content-Length and chunked") << head + length + "Transfer-Encoding: chunked\r\n\r\n" + body << 400;
        QTest::newRow("chunked") << head + "Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n" << 411;
        QTest::newRow("a 2 MB header") << head + "X-Big: " + QByteArray(2 * 1024 * 1024, 'b') + "\r\n\r\n" << 431;
        QTest::newRow("request smuggled behind a body")
            << QByteArray("POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /stats HTTP/1.1\r\nHost: a\r\n\r\n")
            << 400;
    }

    void refusedRequests()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        StreamClient good;
        placeGoodCall(QStringLiteral("CA501"), &good);
        if (QTest::currentTestFailed())
            return;
        RawClient client(port());
        sendRaw(request, &client);
        QCOMPARE(client.status(), status);
        QCOMPARE(client.header("Connection"), QByteArray("close"));
        QTRY_VERIFY_WITH_TIMEOUT(client.disconnected, 5000);
        QCOMPARE(m_statsServed, 0); // nothing smuggled reached a handler

        // The server answers the next one, and the call beside never noticed.
        const QByteArray body = formBody(QStringLiteral("CA502"), QStringLiteral("+15557770000"));
        int next = 0;
        QByteArray answer;
        postWebhook(body, sign(body), &next, &answer);
        QCOMPARE(next, 200);
        verifyStillStreaming(good);
    }

    void slowAndSilentSockets_data()
    {
        QTest::addColumn<QByteArray>("sent");
        QTest::addColumn<bool>("drip");
        QTest::newRow("connects and never sends") << QByteArray() << false;
        QTest::newRow("half a request head") << QByteArray("GET /healthz HTTP/1.1\r\nHo") << false;
        QTest::newRow("head, then half the body") << QByteArray("POST /twilio/voice HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nCall") << false;
        QTest::newRow("slowloris: a header byte at a time, forever") << QByteArray("GET /healthz HTTP/1.1\r\n") << true;
    }

    void slowAndSilentSockets()
    {
        QFETCH(QByteArray, sent);
        QFETCH(bool, drip);
        StreamClient good;
        placeGoodCall(QStringLiteral("CA600"), &good);
        if (QTest::currentTestFailed())
            return;
        RawClient client(port());
        QVERIFY(client.socket.waitForConnected(5000));
        client.socket.write(sent);
        QTimer dripper;
        connect(&dripper, &QTimer::timeout, &client.socket, [&client] { client.socket.write("X"); });
        if (drip)
            dripper.start(50);
        QTRY_VERIFY_WITH_TIMEOUT(client.disconnected, 10000);
        QCOMPARE(client.status(), 408);
        QVERIFY(m_server->networkStats().value(QStringLiteral("requestTimeouts")).toInt() >= 1);
        verifyStillStreaming(good);
    }

    void idleKeepAliveIsClosedQuietly()
    {
        RawClient client(port());
        sendRaw("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &client);
        QCOMPARE(client.status(), 200);
        client.received.clear();
        QTRY_VERIFY_WITH_TIMEOUT(client.disconnected, 10000);
        QVERIFY(client.received.isEmpty());
    }

    void hostileFromIsEscaped()
    {
        const QString from = QStringLiteral("+1555\r\n2030-01-01 00:00:00.000 INFO  [http] call=CAx forged") + QChar(0x01)
                             + QChar(0x1b) + QStringLiteral("[31m") + QChar(0xFFFE);
        const QByteArray body = formBody(QStringLiteral("CA700"), from);
        int status = 0;
        QByteArray answer;
        postWebhook(body, sign(body), &status, &answer);
        QCOMPARE(status, 200);
        const Twiml twiml = readTwiml(answer);
        QVERIFY2(twiml.wellFormed, answer.constData());
        const QString parameter = twiml.parameters.value(QStringLiteral("from"));
        QVERIFY(parameter.startsWith(QLatin1String("+1555\r\n")));
        for (const QChar c : parameter)
            QVERIFY2(c.unicode() >= 0x20 || c == QLatin1Char('\r') || c == QLatin1Char('\n'), qPrintable(parameter));
        // One log line, with the controls shown escaped: no line break or escape
        // sequence of the caller's reaches the log.
        QCOMPARE(logLinesContaining(QStringLiteral("+1555\\r\\n2030-01-01")), 1);
        QCOMPARE(logLinesContaining(QString(QChar(0x1b))), 0);
        for (const std::string &formatted : m_logSink->last_formatted()) {
            QString line = QString::fromStdString(formatted);
            while (line.endsWith(QLatin1Char('\n')) || line.endsWith(QLatin1Char('\r')))
                line.chop(1);
            QVERIFY2(!line.contains(QLatin1Char('\n')) && !line.contains(QLatin1Char('\r')), qPrintable(line));
        }
    }

    void connectionCaps_data()
    {
        QTest::addColumn<int>("total");
        QTest::addColumn<int>("perAddress");
        QTest::newRow("per address") << 100 << 3;
        QTest::newRow("total") << 3 << 100;
    }

    void connectionCaps()
    {
        QFETCH(int, total);
        QFETCH(int, perAddress);
        NetworkLimits limits = shortLimits();
        limits.requestHeaderTimeoutMs = 60'000; // the idle sockets below must stay open
        limits.maxConnections = total;
        limits.maxConnectionsPerAddress = perAddress;
        startServer(limits, QString::fromLatin1(kAuthToken), QString());
        std::vector<std::unique_ptr<RawClient>> idle;
        for (int i = 0; i < 3; ++i) {
            idle.push_back(std::make_unique<RawClient>(port()));
            QVERIFY(idle.back()->socket.waitForConnected(5000));
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_server->networkStats().value(QStringLiteral("connectionsOpen")).toInt(), 3, 5000);

        RawClient shed(port());
        QTRY_VERIFY_WITH_TIMEOUT(shed.disconnected, 5000);
        QCOMPARE(shed.status(), 503);
        for (const auto &client : idle)
            QVERIFY(!client->disconnected);

        idle.pop_back();
        QTRY_COMPARE_WITH_TIMEOUT(m_server->networkStats().value(QStringLiteral("connectionsOpen")).toInt(), 2, 5000);
        RawClient next(port());
        sendRaw("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &next);
        QCOMPARE(next.status(), 200);
    }

    void descriptorExhaustionIsShedNotHung()
    {
        rlimit original{};
        QVERIFY(::getrlimit(RLIMIT_NOFILE, &original) == 0);
        rlimit lowered = original;
        lowered.rlim_cur = rlim_t(countOpenDescriptorsBelow(4096) + 64);
        if (lowered.rlim_cur >= original.rlim_cur || ::setrlimit(RLIMIT_NOFILE, &lowered) != 0)
            QSKIP("cannot lower RLIMIT_NOFILE here");
        std::vector<int> fillers;
        const auto release = [&] {
            for (const int fd : fillers)
                ::close(fd);
            fillers.clear();
            ::setrlimit(RLIMIT_NOFILE, &original);
        };
        const auto guard = qScopeGuard(release);
        // Every descriptor taken, then one given back: our client socket takes
        // it, and the server's accept() meets EMFILE.
        for (int fd; fillers.size() < 4096 && (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;)
            fillers.push_back(fd);
        QCOMPARE(errno, EMFILE);
        ::close(fillers.back());
        fillers.pop_back();

        RawClient last(port()); // the /healthz that hung for 18 s
        last.socket.write("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(last.disconnected, 10000);
        QCOMPARE(last.status(), 503);
        QVERIFY(m_server->networkStats().value(QStringLiteral("acceptFailures")).toInt() >= 1);
        QVERIFY(logLinesContaining(QStringLiteral("accept failed")) >= 1);

        release();
        RawClient after(port()); // accepting resumed
        sendRaw("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &after);
        QCOMPARE(after.status(), 200);
    }

    // Last: it spends the shared per-remote log budget of 127.0.0.1.
    void logLinesAreThrottled()
    {
        NetworkLimits limits = shortLimits();
        limits.logLinesPerSecondPerRemote = 1;
        startServer(limits, QString::fromLatin1(kAuthToken), QString());
        const int before = logLinesContaining(QStringLiteral("protocol error"));
        constexpr int kStreams = 40;
        std::vector<std::unique_ptr<StreamClient>> streams;
        for (int i = 0; i < kStreams; ++i) {
            streams.push_back(std::make_unique<StreamClient>());
            openStream(streams.back().get());
            streams.back()->socket.sendTextMessage(QStringLiteral("{not json"));
        }
        for (const auto &stream : streams)
            QTRY_VERIFY_WITH_TIMEOUT(stream->closed, 10000);
        const int lines = logLinesContaining(QStringLiteral("protocol error")) - before;
        QVERIFY2(lines < kStreams / 2, qPrintable(QString::number(lines)));
        QVERIFY(m_server->networkStats().value(QStringLiteral("logLinesSuppressed")).toInt() > 0);
    }
};

QTEST_GUILESS_MAIN(TestHostileNetwork)
#include "tst_hostilenetwork.moc"
