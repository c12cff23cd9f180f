#include "tst_apexserver.h"

#include "http/listenaddress.h"
#include "observability/logging.h"
#include "telephony/twiliomessages.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QTest>

using namespace apex;

LegProbe::LegProbe(TwilioMediaLeg *l)
    : leg(l)
    , started(l, &CallLeg::started)
    , audio(l, &CallLeg::audioReceived)
    , dtmf(l, &CallLeg::dtmfReceived)
    , marks(l, &CallLeg::markPlayed)
    , ended(l, &CallLeg::ended)
{
}

namespace {

QByteArray frame(int seed)
{
    QByteArray bytes(160, '\0');
    for (int i = 0; i < bytes.size(); ++i)
        bytes[i] = char((i * 13 + seed * 31) & 0xFF);
    return bytes;
}

} // namespace

void TestApexServer::initTestCase()
{
    qRegisterMetaType<CallStartInfo>();
    qRegisterMetaType<CallEndReason>();
    m_logSink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
    for (const char *concern : {"twilio", "http"})
        log::get(concern)->sinks().push_back(m_logSink);
}

void TestApexServer::init()
{
    m_server = std::make_unique<ApexServer>();
    connect(m_server.get(), &ApexServer::newCall, this,
            [this](TwilioMediaLeg *leg) { m_legs.push_back(std::make_unique<LegProbe>(leg)); });
    QString error;
    QVERIFY2(m_server->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    QVERIFY(m_server->serverPort() != 0);
}

void TestApexServer::cleanup()
{
    m_legs.clear();
    m_server.reset();
}

std::unique_ptr<FakeTwilio> TestApexServer::connectClient(const QString &path)
{
    auto client = std::make_unique<FakeTwilio>();
    FakeTwilio *raw = client.get();
    connect(&raw->socket, &QWebSocket::textMessageReceived, this, [raw](const QString &m) { raw->received.append(m); });
    connect(&raw->socket, &QWebSocket::disconnected, this, [raw] {
        raw->disconnected = true;
        raw->closeCode = raw->socket.closeCode();
        raw->closeReason = raw->socket.closeReason();
    });
    QSignalSpy connectedSpy(&raw->socket, &QWebSocket::connected);
    raw->socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(m_server->serverPort()).arg(path)));
    if (!connectedSpy.wait(5000))
        return nullptr;
    return client;
}

LegProbe *TestApexServer::probeFor(const FakeTwilio &client)
{
    const QString peer = QStringLiteral("127.0.0.1:%1").arg(client.socket.localPort());
    for (auto &probe : m_legs) {
        if (probe->leg->peer() == peer)
            return probe.get();
    }
    return nullptr;
}

void TestApexServer::startCall(FakeTwilio &client, const QString &callSid, const QString &tenant)
{
    client.streamSid = QStringLiteral("MZ") + callSid.mid(2);
    client.socket.sendTextMessage(QString::fromUtf8(twilio::toJson(twilio::ConnectedEvent{})));
    twilio::StartEvent start;
    start.sequenceNumber = ++client.sequence;
    start.streamSid = client.streamSid;
    start.accountSid = QStringLiteral("AC00000000000000000000000000000000");
    start.callSid = callSid;
    start.customParameters = {{QStringLiteral("tenant"), tenant},
                              {QStringLiteral("from"), QStringLiteral("+15550001111")},
                              {QStringLiteral("to"), QStringLiteral("+15550002222")}};
    client.socket.sendTextMessage(QString::fromUtf8(twilio::toJson(start)));
}

void TestApexServer::sendMedia(FakeTwilio &client, const QByteArray &mulaw)
{
    twilio::MediaEvent media;
    media.sequenceNumber = ++client.sequence;
    media.streamSid = client.streamSid;
    media.chunk = ++client.chunk;
    media.timestampMs = (client.chunk - 1) * 20;
    media.payload = mulaw;
    client.socket.sendTextMessage(QString::fromUtf8(twilio::toJson(media)));
}

bool TestApexServer::logContains(const QString &needle) const
{
    for (const std::string &line : m_logSink->last_formatted()) {
        if (QString::fromStdString(line).contains(needle))
            return true;
    }
    return false;
}

QByteArray TestApexServer::httpRequest(const QByteArray &method, const QString &path, const QByteArray &body,
                                       int *status, QByteArray *contentType)
{
    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_server->serverPort()).arg(path)));
    if (method == "POST")
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
    QNetworkReply *reply = manager.sendCustomRequest(request, method, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!finished.wait(5000))
        return "timeout";
    *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (contentType)
        *contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    const QByteArray data = reply->readAll();
    reply->deleteLater();
    return data;
}

void TestApexServer::listenAddressParsing_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::newRow("loopback") << "127.0.0.1:8080" << true << "127.0.0.1" << 8080;
    QTest::newRow("any") << "0.0.0.0:9000" << true << "0.0.0.0" << 9000;
    QTest::newRow("empty host") << ":9001" << true << "0.0.0.0" << 9001;
    QTest::newRow("localhost") << "localhost:0" << true << "localhost" << 0;
    QTest::newRow("ipv6") << "[::1]:8080" << true << "::1" << 8080;
    QTest::newRow("bare port") << "8081" << true << "127.0.0.1" << 8081;
    QTest::newRow("spaces") << " 127.0.0.1:80 " << true << "127.0.0.1" << 80;
    QTest::newRow("empty") << "" << false << "" << 0;
    QTest::newRow("no port") << "127.0.0.1:" << false << "" << 0;
    QTest::newRow("big port") << "127.0.0.1:70000" << false << "" << 0;
    QTest::newRow("word port") << "127.0.0.1:http" << false << "" << 0;
    QTest::newRow("dns name") << "example.com:80" << false << "" << 0;
    QTest::newRow("bare ipv6") << "::1:80" << false << "" << 0;
    QTest::newRow("bad bracket") << "[::1]80" << false << "" << 0;
}

void TestApexServer::listenAddressParsing()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(QString, host);
    QFETCH(int, port);
    QString error;
    const auto parsed = ListenAddress::parse(text, &error);
    QCOMPARE(parsed.has_value(), valid);
    if (!valid) {
        QVERIFY(!error.isEmpty());
        return;
    }
    QCOMPARE(parsed->host, host);
    QCOMPARE(int(parsed->port), port);
}

void TestApexServer::listenFailsWithReason()
{
    ApexServer second;
    QString error;
    QVERIFY(!second.listen(QHostAddress::LocalHost, m_server->serverPort(), &error));
    QVERIFY2(error.contains(QString::number(m_server->serverPort())), qPrintable(error));
}

void TestApexServer::healthz()
{
    int status = 0;
    QByteArray contentType;
    const QByteArray body = httpRequest("GET", QStringLiteral("/healthz"), {}, &status, &contentType);
    QCOMPARE(status, 200);
    QVERIFY(contentType.contains("application/json"));
    QCOMPARE(QJsonDocument::fromJson(body).object().value("status").toString(), QStringLiteral("ok"));
}

void TestApexServer::unknownRouteIs404()
{
    int status = 0;
    httpRequest("GET", QStringLiteral("/nope"), {}, &status, nullptr);
    QCOMPARE(status, 404);
    httpRequest("GET", QStringLiteral("/twilio/voice"), {}, &status, nullptr);
    QCOMPARE(status, 404);
}

void TestApexServer::voiceWebhookReturnsTwiml()
{
    QString asked;
    m_server->setTenantResolver([&asked](const QString &to) {
        asked = to;
        return QStringLiteral("acme");
    });
    int status = 0;
    QByteArray contentType;
    const QByteArray body = httpRequest(
        "POST", QStringLiteral("/twilio/voice"),
        "CallSid=CA1234&AccountSid=AC1&From=%2B15550001111&To=%2B15550002222&CallStatus=ringing&Direction=inbound",
        &status, &contentType);
    QCOMPARE(status, 200);
    QVERIFY2(contentType.startsWith("text/xml"), contentType.constData());
    QCOMPARE(asked, QStringLiteral("+15550002222"));
    const QByteArray expected = QStringLiteral(
        "<Response><Connect><Stream url=\"ws://127.0.0.1:%1/twilio/media\">"
        "<Parameter name=\"tenant\" value=\"acme\"/>"
        "<Parameter name=\"from\" value=\"+15550001111\"/>"
        "<Parameter name=\"to\" value=\"+15550002222\"/>"
        "</Stream></Connect></Response>").arg(m_server->serverPort()).toUtf8();
    QVERIFY2(body.endsWith(expected), body.constData());
}

void TestApexServer::voiceWebhookEscapesAndUsesPublicUrl()
{
    m_server->setPublicUrl(QStringLiteral("https://abc.example/"));
    m_server->setTenantResolver([](const QString &) { return QStringLiteral("a&b<\"c\">"); });
    int status = 0;
    const QByteArray body = httpRequest("POST", QStringLiteral("/twilio/voice"),
                                        "CallSid=CA1&From=client%3Aann+o%27neil&To=%2B1", &status, nullptr);
    QCOMPARE(status, 200);
    QVERIFY2(body.contains("<Stream url=\"wss://abc.example/twilio/media\">"), body.constData());
    QVERIFY2(body.contains("<Parameter name=\"tenant\" value=\"a&amp;b&lt;&quot;c&quot;&gt;\"/>"), body.constData());
    QVERIFY2(body.contains("<Parameter name=\"from\" value=\"client:ann o'neil\"/>"), body.constData());
}

void TestApexServer::voiceWebhookRefusesUnknownTenant()
{
    m_server->setTenantResolver([](const QString &) { return QString(); });
    int status = 0;
    QByteArray contentType;
    const QByteArray body = httpRequest("POST", QStringLiteral("/twilio/voice"), "CallSid=CA1&To=%2B19999", &status,
                                        &contentType);
    QCOMPARE(status, 404);
    QVERIFY(contentType.startsWith("text/xml"));
    QVERIFY2(body.contains("<Say>") && body.contains("<Hangup/>"), body.constData());
    QVERIFY(logContains(QStringLiteral("no tenant answers +19999")));
}

void TestApexServer::mediaUrlFromPublicUrl_data()
{
    QTest::addColumn<QString>("publicUrl");
    QTest::addColumn<QString>("mediaUrl");
    QTest::newRow("https") << "https://abc.example" << "wss://abc.example/twilio/media";
    QTest::newRow("slash") << "https://abc.example/" << "wss://abc.example/twilio/media";
    QTest::newRow("prefix") << "https://abc.example/apex/" << "wss://abc.example/apex/twilio/media";
    QTest::newRow("port") << "http://10.0.0.5:8080" << "ws://10.0.0.5:8080/twilio/media";
    QTest::newRow("query dropped") << "https://abc.example/?x=1" << "wss://abc.example/twilio/media";
    QTest::newRow("wss kept") << "wss://abc.example" << "wss://abc.example/twilio/media";
    QTest::newRow("ftp refused") << "ftp://abc.example" << "";
    QTest::newRow("no host") << "abc" << "";
}

void TestApexServer::mediaUrlFromPublicUrl()
{
    QFETCH(QString, publicUrl);
    QFETCH(QString, mediaUrl);
    QCOMPARE(ApexServer::mediaUrlFrom(publicUrl), mediaUrl);
}

void TestApexServer::parseFormDecodesPlus()
{
    const auto form = ApexServer::parseForm("From=%2B1555&CallerName=Ann+Lee&Empty=&Flag");
    QCOMPARE(form.value("From"), QStringLiteral("+1555"));
    QCOMPARE(form.value("CallerName"), QStringLiteral("Ann Lee"));
    QVERIFY(form.contains("Empty"));
    QVERIFY(form.contains("Flag"));
}

void TestApexServer::mediaStreamDeliversStartAndAudio()
{
    auto client = connectClient();
    QVERIFY(client);
    QTRY_VERIFY(probeFor(*client));
    LegProbe *probe = probeFor(*client);
    QCOMPARE(probe->leg->state(), TwilioMediaLeg::State::AwaitingStart);
    // moveToThread(leg) must carry the whole transport: socket and TCP socket are children.
    QCOMPARE(probe->leg->findChildren<QWebSocket *>().size(), 1);
    QCOMPARE(probe->leg->findChildren<QTcpSocket *>().size(), 1);

    startCall(*client, QStringLiteral("CA0001"), QStringLiteral("acme"));
    QTRY_COMPARE(probe->started.size(), 1);
    const auto info = probe->started.at(0).at(0).value<CallStartInfo>();
    QCOMPARE(info.callId, QStringLiteral("CA0001"));
    QCOMPARE(info.streamId, QStringLiteral("MZ0001"));
    QCOMPARE(info.parameters.value(QStringLiteral("tenant")), QStringLiteral("acme"));
    QCOMPARE(info.from, QStringLiteral("+15550001111"));
    QCOMPARE(info.to, QStringLiteral("+15550002222"));

    for (int i = 0; i < 5; ++i)
        sendMedia(*client, frame(i));
    QTRY_COMPARE(probe->audio.size(), 5);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(probe->audio.at(i).at(0).toByteArray(), frame(i));

    client->socket.sendTextMessage(QString::fromUtf8(twilio::toJson(twilio::DtmfEvent{++client->sequence, client->streamSid, QStringLiteral("inbound_track"), QChar('7')})));
    QTRY_COMPARE(probe->dtmf.size(), 1);
    QCOMPARE(probe->dtmf.at(0).at(0).value<QChar>(), QChar('7'));

    client->socket.sendTextMessage(QString::fromUtf8(twilio::toJson(twilio::MarkEvent{++client->sequence, client->streamSid, QStringLiteral("r1-s1")})));
    QTRY_COMPARE(probe->marks.size(), 1);
    QCOMPARE(probe->marks.at(0).at(0).toString(), QStringLiteral("r1-s1"));

    client->socket.sendTextMessage(QString::fromUtf8(twilio::toJson(twilio::StopEvent{++client->sequence, client->streamSid, QStringLiteral("AC1"), QStringLiteral("CA0001")})));
    QTRY_COMPARE(probe->ended.size(), 1);
    QCOMPARE(probe->ended.at(0).at(0).value<CallEndReason>(), CallEndReason::CallerHungUp);
    QTRY_VERIFY(client->disconnected);
}

void TestApexServer::outboundMessagesAreExactJson()
{
    auto client = connectClient();
    QVERIFY(client);
    QTRY_VERIFY(probeFor(*client));
    LegProbe *probe = probeFor(*client);
    startCall(*client, QStringLiteral("CA0002"), QStringLiteral("acme"));
    QTRY_COMPARE(probe->started.size(), 1);

    const QByteArray audio = frame(42);
    probe->leg->sendAudio(audio);
    probe->leg->sendMark(QStringLiteral("r1-s1"));
    probe->leg->clearAudio();
    QTRY_COMPARE(client->received.size(), 3);
    QCOMPARE(client->received.at(0),
             QStringLiteral("{\"event\":\"media\",\"streamSid\":\"MZ0002\",\"media\":{\"payload\":\"%1\"}}")
                 .arg(QString::fromLatin1(audio.toBase64())));
    QCOMPARE(client->received.at(1), QStringLiteral(R"({"event":"mark","streamSid":"MZ0002","mark":{"name":"r1-s1"}})"));
    QCOMPARE(client->received.at(2), QStringLiteral(R"({"event":"clear","streamSid":"MZ0002"})"));
}

void TestApexServer::sendsBeforeStartAreDropped()
{
    auto client = connectClient();
    QVERIFY(client);
    QTRY_VERIFY(probeFor(*client));
    LegProbe *probe = probeFor(*client);
    probe->leg->sendAudio(frame(1));
    probe->leg->sendMark(QStringLiteral("early"));
    probe->leg->clearAudio();
    QVERIFY(logContains(QStringLiteral("audio dropped: stream not started yet")));
    startCall(*client, QStringLiteral("CA0003"), QStringLiteral("acme"));
    QTRY_COMPARE(probe->started.size(), 1);
    probe->leg->sendMark(QStringLiteral("late"));
    QTRY_COMPARE(client->received.size(), 1);
    QVERIFY(client->received.at(0).contains(QStringLiteral("\"late\"")));
}

void TestApexServer::hangUpClosesNormally()
{
    auto client = connectClient();
    QVERIFY(client);
    QTRY_VERIFY(probeFor(*client));
    LegProbe *probe = probeFor(*client);
    startCall(*client, QStringLiteral("CA0004"), QStringLiteral("acme"));
    QTRY_COMPARE(probe->started.size(), 1);
    probe->leg->hangUp();
    QCOMPARE(probe->ended.size(), 0); // queued, never re-entrant
    QTRY_COMPARE(probe->ended.size(), 1);
    QCOMPARE(probe->ended.at(0).at(0).value<CallEndReason>(), CallEndReason::AgentHungUp);
    QTRY_VERIFY(client->disconnected);
    QCOMPARE(client->closeCode, int(QWebSocketProtocol::CloseCodeNormal));
}

void TestApexServer::badInputClosesOnlyThatCall_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("closeCode");
    QTest::addColumn<QString>("logNeedle");
    QTest::newRow("malformed json") << "malformed" << int(QWebSocketProtocol::CloseCodeProtocolError) << "malformed JSON";
    QTest::newRow("bad base64") << "base64" << int(QWebSocketProtocol::CloseCodeProtocolError) << "bad base64";
    QTest::newRow("media before start") << "early" << int(QWebSocketProtocol::CloseCodePolicyViolated) << "media before start";
    QTest::newRow("unknown event") << "unknown" << int(QWebSocketProtocol::CloseCodePolicyViolated) << "unknown event";
    QTest::newRow("frame over 64 KB") << "large" << int(QWebSocketProtocol::CloseCodeTooMuchData) << "frame over 65536 bytes";
    QTest::newRow("binary frame") << "binary" << int(QWebSocketProtocol::CloseCodeDatatypeNotSupported) << "binary frame";
    QTest::newRow("wrong streamSid") << "sid" << int(QWebSocketProtocol::CloseCodePolicyViolated) << "expected MZ0BAD";
}

void TestApexServer::badInputClosesOnlyThatCall()
{
    QFETCH(QString, kind);
    QFETCH(int, closeCode);
    QFETCH(QString, logNeedle);

    auto good = connectClient();
    QVERIFY(good);
    QTRY_VERIFY(probeFor(*good));
    LegProbe *goodProbe = probeFor(*good);
    startCall(*good, QStringLiteral("CA0GOOD"), QStringLiteral("acme"));
    QTRY_COMPARE(goodProbe->started.size(), 1);
    sendMedia(*good, frame(1));
    QTRY_COMPARE(goodProbe->audio.size(), 1);

    auto bad = connectClient();
    QVERIFY(bad);
    QTRY_VERIFY(probeFor(*bad));
    LegProbe *badProbe = probeFor(*bad);
    if (kind != QLatin1String("early")) {
        startCall(*bad, QStringLiteral("CA0BAD"), QStringLiteral("acme"));
        QTRY_COMPARE(badProbe->started.size(), 1);
    } else {
        bad->streamSid = QStringLiteral("MZ0BAD");
    }
    if (kind == QLatin1String("malformed")) {
        bad->socket.sendTextMessage(QStringLiteral("{\"event\":\"media\",\"media\":"));
    } else if (kind == QLatin1String("base64")) {
        bad->socket.sendTextMessage(QStringLiteral(R"({"event":"media","streamSid":"MZ0BAD","media":{"payload":"*not*base64*"}})"));
    } else if (kind == QLatin1String("early")) {
        sendMedia(*bad, frame(2));
    } else if (kind == QLatin1String("unknown")) {
        bad->socket.sendTextMessage(QStringLiteral(R"({"event":"dance","streamSid":"MZ0BAD"})"));
    } else if (kind == QLatin1String("large")) {
        sendMedia(*bad, QByteArray(60 * 1024, char(0x7F))); // ~80 KB once base64-encoded
    } else if (kind == QLatin1String("binary")) {
        bad->socket.sendBinaryMessage(frame(3));
    } else if (kind == QLatin1String("sid")) {
        bad->streamSid = QStringLiteral("MZ0OTHER");
        sendMedia(*bad, frame(4));
    }

    QTRY_COMPARE(badProbe->ended.size(), 1);
    QCOMPARE(badProbe->ended.at(0).at(0).value<CallEndReason>(), CallEndReason::ProtocolError);
    QVERIFY(!badProbe->ended.at(0).at(1).toString().isEmpty());
    QTRY_VERIFY(bad->disconnected);
    QCOMPARE(bad->closeCode, closeCode);
    QVERIFY2(!bad->closeReason.isEmpty() || kind == QLatin1String("large"), qPrintable(bad->closeReason));
    QVERIFY2(logContains(logNeedle), qPrintable(logNeedle));
    if (kind != QLatin1String("early") && kind != QLatin1String("large"))
        QVERIFY(logContains(QStringLiteral("call=CA0BAD")));
    QCOMPARE(badProbe->audio.size(), 0);

    // The good call on the same server keeps streaming.
    for (int i = 10; i < 15; ++i)
        sendMedia(*good, frame(i));
    QTRY_COMPARE(goodProbe->audio.size(), 6);
    QCOMPARE(goodProbe->audio.last().at(0).toByteArray(), frame(14));
    QCOMPARE(goodProbe->ended.size(), 0);
    QVERIFY(!good->disconnected);
}

void TestApexServer::unknownWebSocketPathIsClosed()
{
    auto good = connectClient();
    QVERIFY(good);
    QTRY_VERIFY(probeFor(*good));
    auto stray = connectClient(QStringLiteral("/somewhere/else"));
    QVERIFY(stray);
    QTRY_VERIFY(stray->disconnected);
    QCOMPARE(stray->closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
    QCOMPARE(stray->closeReason, QStringLiteral("unknown path"));
    QVERIFY(logContains(QStringLiteral("unknown path \"/somewhere/else\"")));
    QCOMPARE(m_legs.size(), size_t(1));
    QVERIFY(!good->disconnected);
}

void TestApexServer::noStartWithinTimeout()
{
    auto client = connectClient();
    QVERIFY(client);
    QTRY_VERIFY(probeFor(*client));
    LegProbe *probe = probeFor(*client);
    probe->leg->setStartTimeoutMs(100);
    QTRY_COMPARE(probe->ended.size(), 1);
    QCOMPARE(probe->ended.at(0).at(0).value<CallEndReason>(), CallEndReason::ProtocolError);
    QTRY_VERIFY(client->disconnected);
    QCOMPARE(client->closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
}

void TestApexServer::legOutlivesServer()
{
    auto client = connectClient();
    QVERIFY(client);
    QTRY_VERIFY(probeFor(*client));
    LegProbe *probe = probeFor(*client);
    startCall(*client, QStringLiteral("CA0005"), QStringLiteral("acme"));
    QTRY_COMPARE(probe->started.size(), 1);
    // Shutdown order must not matter: the leg owns its whole transport.
    m_server.reset();
    sendMedia(*client, frame(5));
    QTRY_COMPARE(probe->audio.size(), 1);
    probe->leg->sendMark(QStringLiteral("still-here"));
    QTRY_COMPARE(client->received.size(), 1);
    client->socket.close();
    QTRY_COMPARE(probe->ended.size(), 1);
    QCOMPARE(probe->ended.at(0).at(0).value<CallEndReason>(), CallEndReason::TransportClosed);
}

QTEST_GUILESS_MAIN(TestApexServer)
