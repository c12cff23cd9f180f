// The real apex-engine with a Twilio auth token, an operator token and short
// limits, facing what the internet sends, as processes on 127.0.0.1: apex-call
// places a signed call (webhook first, as Twilio does) and is answered, while
// unsigned webhooks, token-less and silent streams, oversized and smuggling
// requests, slow-loris sockets and /stats without the bearer token are each
// refused with their status or close code. Behaviour only, never timings.

#include "telephony/twiliomessages.h"
#include "telephony/twiliosignature.h"
#include "testsupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QXmlStreamReader>

#include <memory>
#include <vector>

using namespace apex;

namespace {

constexpr char kAuthToken[] = "e2e0123456789abcdef0123456789abc";
constexpr char kOperatorToken[] = "e2e-operator-token-77";

QString bin(const QString &name)
{
    return test::binaryDir() + QLatin1Char('/') + name;
}

// A plain TCP exchange; answered once a whole response (or the close) is in.
struct RawClient
{
    QTcpSocket socket;
    QByteArray received;
    bool closed = false;

    explicit RawClient(quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this] { received += socket.readAll(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [this] { closed = true; });
        QObject::connect(&socket, &QTcpSocket::errorOccurred, &socket, [this] {
            if (socket.state() != QAbstractSocket::ConnectedState)
                closed = true;
        });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }
    bool answered() const
    {
        const qsizetype headEnd = received.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return closed;
        const QRegularExpression length(QStringLiteral("(?i)content-length:\\s*(\\d+)"));
        const auto match = length.match(QString::fromLatin1(received.left(headEnd)));
        return closed || (match.hasMatch() && received.size() >= headEnd + 4 + match.captured(1).toLongLong());
    }
    int status() const { return received.startsWith("HTTP/1.1 ") ? received.mid(9, 3).toInt() : 0; }
    QByteArray body() const
    {
        const qsizetype headEnd = received.indexOf("\r\n\r\n");
        return headEnd < 0 ? QByteArray() : received.mid(headEnd + 4);
    }
};

struct StreamClient
{
    QWebSocket socket;
    bool closed = false;
    int closeCode = -1;
    QString closeReason;

    StreamClient()
    {
        QObject::connect(&socket, &QWebSocket::disconnected, &socket, [this] {
            closed = true;
            closeCode = socket.closeCode();
            closeReason = socket.closeReason();
        });
    }
    void sendStart(const QString &callSid, const QMap<QString, QString> &parameters)
    {
        twilio::StartEvent start;
        start.sequenceNumber = 1;
        start.streamSid = QStringLiteral("MZ") + callSid.mid(2);
        start.accountSid = QStringLiteral("AC0123");
        start.callSid = callSid;
        start.customParameters = parameters;
        socket.sendTextMessage(QString::fromUtf8(twilio::toJson(twilio::ConnectedEvent{})));
        socket.sendTextMessage(QString::fromUtf8(twilio::toJson(start)));
    }
};

QMap<QString, QString> twimlParameters(const QByteArray &xml, bool *wellFormed)
{
    QMap<QString, QString> parameters;
    QXmlStreamReader reader(xml);
    while (!reader.atEnd()) {
        if (reader.readNext() == QXmlStreamReader::StartElement && reader.name() == QLatin1String("Parameter"))
            parameters.insert(reader.attributes().value(QLatin1String("name")).toString(),
                              reader.attributes().value(QLatin1String("value")).toString());
    }
    *wellFormed = !reader.hasError();
    return parameters;
}

} // namespace

class TestEndToEndSecurity : public QObject
{
    Q_OBJECT

private:
    QProcess m_engine;
    QByteArray m_engineLog;
    quint16 m_port = 0;
    QTemporaryDir m_dir;
    QString m_configPath;

    QString webhookUrl() const { return QStringLiteral("http://127.0.0.1:%1/twilio/voice").arg(m_port); }

    static QByteArray form(const QString &callSid, const QString &from)
    {
        return "AccountSid=AC0123&CallSid=" + QUrl::toPercentEncoding(callSid) + "&From=" + QUrl::toPercentEncoding(from)
               + "&To=%2B15550100200";
    }

    void exchange(const QByteArray &request, RawClient *client)
    {
        QVERIFY(client->socket.waitForConnected(5000));
        client->socket.write(request);
        QTRY_VERIFY_WITH_TIMEOUT(client->answered(), 10000);
    }

    void postWebhook(const QByteArray &body, const QByteArray &signature, RawClient *client)
    {
        QByteArray request = "POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(m_port)
                             + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                             + QByteArray::number(body.size()) + "\r\n";
        if (!signature.isEmpty())
            request += "X-Twilio-Signature: " + signature + "\r\n";
        exchange(request + "\r\n" + body, client);
    }

    QByteArray sign(const QByteArray &body) const
    {
        return twilio::computeSignature(kAuthToken, webhookUrl(), twilio::parseFormBody(body));
    }

    void openStream(StreamClient *client)
    {
        QSignalSpy connected(&client->socket, &QWebSocket::connected);
        client->socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/twilio/media").arg(m_port)));
        QVERIFY(connected.wait(5000));
    }

    bool engineHealthy()
    {
        RawClient client(m_port);
        if (!client.socket.waitForConnected(2000))
            return false;
        client.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QTest::qWaitFor([&] { return client.answered(); }, 2000);
        return client.status() == 200;
    }

    QProcess *startCaller(const QStringList &arguments, const QStringList &unsetEnvironment = {})
    {
        auto *caller = new QProcess(this);
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const QString &name : unsetEnvironment)
            environment.remove(name);
        caller->setProcessEnvironment(environment);
        caller->start(bin(QStringLiteral("apex-call")),
                      QStringList{QStringLiteral("--engine"), QStringLiteral("127.0.0.1:%1").arg(m_port)} + arguments);
        return caller;
    }

    QString finish(QProcess *caller, int *exitCode)
    {
        caller->waitForFinished(120000);
        *exitCode = caller->exitStatus() == QProcess::NormalExit ? caller->exitCode() : -1;
        const QString out = QString::fromUtf8(caller->readAllStandardOutput());
        qInfo().noquote() << out << QString::fromUtf8(caller->readAllStandardError()).right(2000);
        caller->deleteLater();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(bin(QStringLiteral("apex-engine"))), "run through ctest: APEX_BIN_DIR names the built binaries");
        QFile shipped(test::sourceDir() + QStringLiteral("/resources/config/apex.json"));
        QVERIFY(shipped.open(QIODevice::ReadOnly));
        QJsonObject config = QJsonDocument::fromJson(shipped.readAll()).object();
        QJsonObject providers = config.value(QStringLiteral("providers")).toObject();
        providers.insert(QStringLiteral("twilioAuthToken"), QString::fromLatin1(kAuthToken));
        config.insert(QStringLiteral("providers"), providers);
        config.insert(QStringLiteral("operatorToken"), QString::fromLatin1(kOperatorToken));
        config.insert(QStringLiteral("limits"), QJsonObject{{QStringLiteral("streamStartTimeoutMs"), 1500},
                                                            {QStringLiteral("streamMediaTimeoutMs"), 1500},
                                                            {QStringLiteral("requestHeaderTimeoutMs"), 1500},
                                                            {QStringLiteral("requestBodyTimeoutMs"), 1500}});
        m_configPath = m_dir.filePath(QStringLiteral("apex.json"));
        QFile file(m_configPath);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(config).toJson());
        file.close();
        // It holds secrets: the engine refuses a file others can read.
        QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));

        m_port = test::freeLoopbackPort();
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const char *name : {"TWILIO_AUTH_TOKEN", "APEX_OPERATOR_TOKEN", "APEX_PUBLIC_URL", "APEX_LISTEN"})
            environment.remove(QLatin1String(name));
        m_engine.setProcessEnvironment(environment);
        m_engine.setProcessChannelMode(QProcess::SeparateChannels);
        connect(&m_engine, &QProcess::readyReadStandardError, this, [this] { m_engineLog += m_engine.readAllStandardError(); });
        m_engine.start(bin(QStringLiteral("apex-engine")),
                       {QStringLiteral("--config"), m_configPath, QStringLiteral("--listen"),
                        QStringLiteral("127.0.0.1:%1").arg(m_port)});
        QVERIFY(m_engine.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(engineHealthy(), 30000);
    }

    void cleanupTestCase()
    {
        if (m_engine.state() != QProcess::NotRunning) {
            m_engine.terminate();
            if (!m_engine.waitForFinished(10000))
                m_engine.kill();
            QCOMPARE(m_engine.exitStatus(), QProcess::NormalExit);
            QCOMPARE(m_engine.exitCode(), 0);
        }
        // The token never reaches the log, whatever happened above.
        QVERIFY(!m_engineLog.contains(kAuthToken));
        QVERIFY(!m_engineLog.contains(kOperatorToken));
    }

    void signedCallIsAnswered()
    {
        int exitCode = 0;
        const QString out = finish(startCaller({QStringLiteral("--auth-token"), QString::fromLatin1(kAuthToken),
                                                QStringLiteral("--operator-token"), QString::fromLatin1(kOperatorToken),
                                                QStringLiteral("--voice"), QStringLiteral("rms"), QStringLiteral("--say"),
                                                QStringLiteral("Do you have parking?")}),
                                   &exitCode);
        QCOMPARE(exitCode, 0);
        QVERIFY2(out.contains(QStringLiteral("tenant=demo: ok")), qPrintable(out));
        QVERIFY(out.contains(QRegularExpression(QStringLiteral("turn 1: end-of-speech → first agent frame: \\d+ ms"))));
        // The stats probe got in with the operator token.
        QVERIFY2(out.contains(QStringLiteral("engine: frames sent")), qPrintable(out));
    }

    void callsWithoutTheTokenAreRefused_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unsigned webhook") << QStringList{QStringLiteral("--webhook")} << "voice webhook answered 403";
        QTest::newRow("webhook signed with another token")
            << QStringList{QStringLiteral("--auth-token"), QStringLiteral("not-the-token")} << "voice webhook answered 403";
        QTest::newRow("stream opened without the webhook") << QStringList{} << "frames received 0";
    }

    void callsWithoutTheTokenAreRefused()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, expected);
        int exitCode = 0;
        const QString out = finish(startCaller(arguments + QStringList{QStringLiteral("--say"), QStringLiteral("Hello?"),
                                                                       QStringLiteral("--timeout-ms"), QStringLiteral("5000")},
                                               {QStringLiteral("TWILIO_AUTH_TOKEN")}),
                                   &exitCode);
        QVERIFY(exitCode != 0);
        QVERIFY2(out.contains(QStringLiteral("FAILED")), qPrintable(out));
        QVERIFY2(out.contains(expected), qPrintable(out));
        QVERIFY(engineHealthy());
    }

    void hostileProbesBesideAGoodCall()
    {
        QProcess *good = startCaller({QStringLiteral("--auth-token"), QString::fromLatin1(kAuthToken), QStringLiteral("--voice"),
                                      QStringLiteral("rms"), QStringLiteral("--say"), QStringLiteral("Do you have parking?")});
        QVERIFY(good->waitForStarted(5000));

        // Requests refused with their status.
        const QByteArray body = form(QStringLiteral("CAe2e1"), QStringLiteral("+15557770000"));
        const QByteArray head = "POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        const QByteArray length = "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        const QList<QPair<QByteArray, int>> requests{
            {head + length + "\r\n" + body, 403},                                   // no signature
            {head + length + "X-Twilio-Signature: AAAA\r\n\r\n" + body, 403},       // a forged one
            {head + "Content-Length: 200000000\r\n\r\n" + QByteArray(65536, 'a'), 413},
            {head + length + length + "\r\n" + body, 400},
            {head + length + "Transfer-Encoding: chunked\r\n\r\n" + body, 400},
            {"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 401},
            {"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer guess\r\n\r\n", 401},
        };
        for (const auto &[request, status] : requests) {
            RawClient client(m_port);
            exchange(request, &client);
            QCOMPARE(client.status(), status);
        }

        // Slow-loris sockets: each holds half a request head; the engine drops them.
        std::vector<std::unique_ptr<RawClient>> slow;
        for (int i = 0; i < 20; ++i) {
            slow.push_back(std::make_unique<RawClient>(m_port));
            QVERIFY(slow.back()->socket.waitForConnected(5000));
            slow.back()->socket.write("GET /healthz HTTP/1.1\r\nX-Slow: ");
        }

        // Streams closed at start or by silence.
        StreamClient noToken, forged, neverStarts, noMedia;
        openStream(&noToken);
        noToken.sendStart(QStringLiteral("CAe2e2"), {{QStringLiteral("tenant"), QStringLiteral("demo")}});
        openStream(&forged);
        forged.sendStart(QStringLiteral("CAe2e3"), {{QStringLiteral("token"), QStringLiteral("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}});
        openStream(&neverStarts);
        {
            const QByteArray signedBody = form(QStringLiteral("CAe2e4"), QStringLiteral("+15557770000"));
            RawClient webhook(m_port);
            postWebhook(signedBody, sign(signedBody), &webhook);
            QCOMPARE(webhook.status(), 200);
            bool wellFormed = false;
            const auto parameters = twimlParameters(webhook.body(), &wellFormed);
            QVERIFY(wellFormed);
            openStream(&noMedia);
            noMedia.sendStart(QStringLiteral("CAe2e4"), parameters);
        }
        const QList<QPair<StreamClient *, QString>> streams{
            {&noToken, QStringLiteral("no stream token")},
            {&forged, QStringLiteral("stream token")},
            {&neverStarts, QStringLiteral("no start")},
            {&noMedia, QStringLiteral("no media")},
        };
        for (const auto &[stream, reason] : streams) {
            QTRY_VERIFY_WITH_TIMEOUT(stream->closed, 15000);
            QCOMPARE(stream->closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
            QVERIFY2(stream->closeReason.contains(reason), qPrintable(stream->closeReason));
        }
        for (const auto &client : slow) {
            QTRY_VERIFY_WITH_TIMEOUT(client->closed, 15000);
            QCOMPARE(client->status(), 408);
        }

        // The operator, with the token, sees all of it counted.
        RawClient stats(m_port);
        exchange("GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + QByteArray(kOperatorToken) + "\r\n\r\n",
                 &stats);
        QCOMPARE(stats.status(), 200);
        const QJsonObject network = QJsonDocument::fromJson(stats.body()).object().value(QStringLiteral("network")).toObject();
        QVERIFY2(network.value(QStringLiteral("webhookSignaturesRefused")).toInt() >= 2, stats.body().constData());
        QVERIFY(network.value(QStringLiteral("streamsRefused")).toInt() >= 2);
        QVERIFY(network.value(QStringLiteral("requestTimeouts")).toInt() >= 20);

        int exitCode = 0;
        const QString out = finish(good, &exitCode);
        QCOMPARE(exitCode, 0);
        QVERIFY2(out.contains(QStringLiteral(": ok")), qPrintable(out));
        QVERIFY(engineHealthy());
    }

    void hostileFromStaysOneEscapedLine()
    {
        const QString from = QStringLiteral("+1555\r\n2031-02-03 04:05:06.789 INFO  [http] forged") + QChar(0x07) + QChar(0x1b)
                             + QStringLiteral("[2J");
        const QByteArray body = form(QStringLiteral("CAe2e5"), from);
        RawClient webhook(m_port);
        postWebhook(body, sign(body), &webhook);
        QCOMPARE(webhook.status(), 200);
        bool wellFormed = false;
        twimlParameters(webhook.body(), &wellFormed);
        QVERIFY2(wellFormed, webhook.body().constData());
        QTRY_VERIFY_WITH_TIMEOUT(m_engineLog.contains("+1555\\r\\n2031-02-03"), 5000);
        for (const QByteArray &line : m_engineLog.split('\n'))
            QVERIFY2(!line.startsWith("2031-02-03") && !line.contains('\x1b' + QByteArray("[2J")), line.constData());
    }

    void checkConfigWarnsBeyondLoopback_data()
    {
        QTest::addColumn<QString>("listen");
        QTest::addColumn<QString>("operatorToken");
        QTest::addColumn<bool>("warns");
        QTest::newRow("any address, no token") << "0.0.0.0:8080" << QString() << true;
        QTest::newRow("any address, token") << "0.0.0.0:8080" << "tok-123456789012" << false;
        QTest::newRow("loopback, no token") << "127.0.0.1:8080" << QString() << false;
    }

    void checkConfigWarnsBeyondLoopback()
    {
        QFETCH(QString, listen);
        QFETCH(QString, operatorToken);
        QFETCH(bool, warns);
        // The engine's config less its operator token: only the environment may give one here.
        QFile engineConfig(m_configPath);
        QVERIFY(engineConfig.open(QIODevice::ReadOnly));
        QJsonObject config = QJsonDocument::fromJson(engineConfig.readAll()).object();
        config.remove(QStringLiteral("operatorToken"));
        const QString path = m_dir.filePath(QStringLiteral("no-operator-token.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        file.write(QJsonDocument(config).toJson());
        file.close();

        QProcess check;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(QStringLiteral("APEX_OPERATOR_TOKEN"));
        if (!operatorToken.isEmpty())
            environment.insert(QStringLiteral("APEX_OPERATOR_TOKEN"), operatorToken);
        check.setProcessEnvironment(environment);
        check.start(bin(QStringLiteral("apex-engine")),
                    {QStringLiteral("--config"), path, QStringLiteral("--listen"), listen, QStringLiteral("--check-config")});
        QVERIFY(check.waitForFinished(30000));
        QCOMPARE(check.exitCode(), 0);
        const QString out = QString::fromUtf8(check.readAllStandardOutput());
        QCOMPARE(out.contains(QStringLiteral("warning: listening on %1, beyond loopback, without an operator token").arg(listen)), warns);
        QVERIFY2(!out.contains(QLatin1String(kAuthToken)) && !out.contains(QLatin1String(kOperatorToken)), qPrintable(out));
        QVERIFY(out.contains(QStringLiteral("webhook signatures and stream tokens checked")));
    }
};

QTEST_GUILESS_MAIN(TestEndToEndSecurity)
#include "test_e2e_security.moc"
