#include "storetesthelpers.h"

#include "observability/logging.h"
#include "redisserver.h"
#include "testsupport.h"
#include "store/redisclient.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTest>

#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <sstream>

using namespace apex;
using apex::test::call;
using apex::test::makeClient;
using apex::test::RedisServer;

Q_DECLARE_METATYPE(apex::RedisClient::State)

namespace {

QList<RedisClient::State> statesOf(const QSignalSpy &spy)
{
    QList<RedisClient::State> states;
    for (const QList<QVariant> &args : spy)
        states.append(args.at(0).value<RedisClient::State>());
    return states;
}

// Clients blocked in BLPOP on the server, or -1 without an answer.
int blockedClients(RedisClient &observer)
{
    const auto info = call(observer, {"INFO", "clients"});
    if (!info || info->type != RedisReply::Type::String)
        return -1;
    for (const QByteArray &line : info->string.split('\n')) {
        if (line.startsWith("blocked_clients:"))
            return line.mid(16).trimmed().toInt();
    }
    return -1;
}

} // namespace

class TestRedisClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<RedisClient::State>();
        QVERIFY2(!RedisServer::executable().isEmpty(), "redis-server missing: run packaging/install-deps.sh");
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
    }

    void parseUrl_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("username");
        QTest::addColumn<QString>("password");
        QTest::addColumn<int>("db");

        const auto row = [](const char *name, const char *url, bool ok, const char *host, int port, const char *user,
                            const char *password, int db) {
            QTest::newRow(name) << QString::fromUtf8(url) << ok << QString::fromUtf8(host) << port
                                << QString::fromUtf8(user) << QString::fromUtf8(password) << db;
        };
        row("plain", "redis://127.0.0.1:6380/0", true, "127.0.0.1", 6380, "", "", 0);
        row("defaults", "redis://10.1.2.3", true, "10.1.2.3", 6379, "", "", 0);
        row("localhost", "redis://localhost:7000", true, "127.0.0.1", 7000, "", "", 0);
        row("db", "redis://127.0.0.1:6379/5", true, "127.0.0.1", 6379, "", "", 5);
        row("trailing slash", "redis://127.0.0.1/", true, "127.0.0.1", 6379, "", "", 0);
        row("password", "redis://:hunter2@127.0.0.1:6379/1", true, "127.0.0.1", 6379, "", "hunter2", 1);
        row("raw special chars", "redis://:p@ss:w/rd#?%zz@127.0.0.1:6379/2", true, "127.0.0.1", 6379, "", "p@ss:w/rd#?%zz", 2);
        row("percent-encoded", "redis://:p%40ss%3Aw%2Frd%25@127.0.0.1/3", true, "127.0.0.1", 6379, "", "p@ss:w/rd%", 3);
        row("acl user", "redis://apex:s3cret@127.0.0.1:6379", true, "127.0.0.1", 6379, "apex", "s3cret", 0);
        row("bare password", "redis://s3cret@127.0.0.1", true, "127.0.0.1", 6379, "", "s3cret", 0);
        row("ipv6", "redis://[::1]:6381/4", true, "::1", 6381, "", "", 4);
        row("upper-case scheme", "REDIS://127.0.0.1", true, "127.0.0.1", 6379, "", "", 0);

        const auto bad = [&row](const char *name, const char *url) { row(name, url, false, "", 0, "", "", 0); };
        bad("empty", "");
        bad("wrong scheme", "http://127.0.0.1:6379");
        bad("no scheme", "127.0.0.1:6379");
        bad("tls", "rediss://127.0.0.1:6379");
        bad("host name", "redis://redis.internal:6379");
        bad("missing host", "redis://:pw@:6379");
        bad("scheme only", "redis://");
        bad("port zero", "redis://127.0.0.1:0");
        bad("port too big", "redis://127.0.0.1:65536");
        bad("port not a number", "redis://127.0.0.1:abc");
        bad("empty port", "redis://127.0.0.1:");
        bad("db not a number", "redis://127.0.0.1/x");
        bad("negative db", "redis://127.0.0.1/-1");
        bad("query", "redis://127.0.0.1/0?timeout=1");
        bad("ipv6 without brackets", "redis://::1:6379");
        bad("unterminated ipv6", "redis://[::1:6379");
        bad("empty password", "redis://:@127.0.0.1");
    }

    void parseUrl()
    {
        QFETCH(QString, url);
        QFETCH(bool, ok);
        RedisClient::Endpoint endpoint;
        QString error;
        QCOMPARE(RedisClient::parseUrl(url, &endpoint, &error), ok);
        if (!ok) {
            QVERIFY(!error.isEmpty());
            return;
        }
        QVERIFY(error.isEmpty());
        QTEST(endpoint.host, "host");
        QTEST(int(endpoint.port), "port");
        QTEST(endpoint.username, "username");
        QTEST(endpoint.password, "password");
        QTEST(endpoint.db, "db");
    }

    void parseUrlErrorsNeverQuoteThePassword()
    {
        const QStringList urls{QStringLiteral("redis://:hunter2@redis.internal:6379"),
                               QStringLiteral("redis://:hunter2@127.0.0.1:99999"),
                               QStringLiteral("redis://:hunter2@127.0.0.1/x"),
                               QStringLiteral("redis://:hunter2@127.0.0.1/0?a=b")};
        for (const QString &url : urls) {
            QString error;
            QVERIFY(!RedisClient::parseUrl(url, nullptr, &error));
            QVERIFY2(!error.contains(QLatin1String("hunter2")), qPrintable(error));
        }
        RedisClient::Endpoint endpoint;
        QVERIFY(RedisClient::parseUrl(QStringLiteral("redis://:hunter2@127.0.0.1:6379/2"), &endpoint, nullptr));
        QCOMPARE(endpoint.displayName(), QStringLiteral("127.0.0.1:6379/2"));
    }

    void invalidUrlNeverConnects()
    {
        RedisClient::Settings settings;
        settings.url = QStringLiteral("redis://:hunter2@redis.internal:6379");
        RedisClient client(settings);
        client.start();
        QCOMPARE(client.state(), RedisClient::State::Disconnected);
        QVERIFY(client.lastError().contains(QLatin1String("IP address")));
        QVERIFY(!client.lastError().contains(QLatin1String("hunter2")));
        const auto reply = call(client, {"PING"});
        QVERIFY(reply);
        QCOMPARE(reply->type, RedisReply::Type::Disconnected);
    }

    void connectsAndEmitsTransitions()
    {
        RedisClient::Settings settings;
        settings.url = m_server.url();
        RedisClient client(settings);
        QSignalSpy spy(&client, &RedisClient::stateChanged);
        client.start();
        QTRY_VERIFY(client.isConnected());
        QTRY_COMPARE(statesOf(spy), (QList<RedisClient::State>{RedisClient::State::Connecting, RedisClient::State::Connected}));
        QVERIFY(client.lastError().isEmpty());
    }

    void binarySafeRoundTrip()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        QByteArray value;
        for (int round = 0; round < 2; ++round)
            for (int b = 0; b < 256; ++b)
                value.append(char(b));
        const QByteArray key("bin\0key\xff\r\n", 11);
        const auto set = call(*client, {"SET", key, value});
        QVERIFY(set);
        QCOMPARE(set->type, RedisReply::Type::Status);
        QCOMPARE(set->string, QByteArray("OK"));
        const auto get = call(*client, {"GET", key});
        QVERIFY(get);
        QCOMPARE(get->type, RedisReply::Type::String);
        QCOMPARE(get->string.size(), 512);
        QCOMPARE(get->string, value);
        const auto empty = call(*client, {"SET", "empty", QByteArray()});
        QVERIFY(empty && empty->type == RedisReply::Type::Status);
        const auto getEmpty = call(*client, {"GET", "empty"});
        QVERIFY(getEmpty);
        QCOMPARE(getEmpty->type, RedisReply::Type::String);
        QVERIFY(getEmpty->string.isEmpty());
    }

    void nilIntegerArrayReplies()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        const auto nil = call(*client, {"GET", "no-such-key"});
        QVERIFY(nil);
        QCOMPARE(nil->type, RedisReply::Type::Nil);
        QVERIFY(!nil->isError());

        call(*client, {"DEL", "counter", "list"});
        const auto incr = call(*client, {"INCRBY", "counter", "41"});
        QVERIFY(incr);
        QCOMPARE(incr->type, RedisReply::Type::Integer);
        QCOMPARE(incr->integer, 41);

        call(*client, {"RPUSH", "list", "a", QByteArray("b\0c", 3)});
        const auto range = call(*client, {"LRANGE", "list", "0", "-1"});
        QVERIFY(range);
        QCOMPARE(range->type, RedisReply::Type::Array);
        QCOMPARE(range->elements.size(), 2);
        QCOMPARE(range->elements.at(1).string, QByteArray("b\0c", 3));

        // Nested arrays with mixed element types: MULTI/EXEC returns one reply per command.
        call(*client, {"MULTI"});
        call(*client, {"INCR", "counter"});
        call(*client, {"LRANGE", "list", "0", "0"});
        call(*client, {"GET", "no-such-key"});
        const auto exec = call(*client, {"EXEC"});
        QVERIFY(exec);
        QCOMPARE(exec->type, RedisReply::Type::Array);
        QCOMPARE(exec->elements.size(), 3);
        QCOMPARE(exec->elements.at(0).integer, 42);
        QCOMPARE(exec->elements.at(1).type, RedisReply::Type::Array);
        QCOMPARE(exec->elements.at(1).elements.at(0).string, QByteArray("a"));
        QCOMPARE(exec->elements.at(2).type, RedisReply::Type::Nil);
    }

    void errorReplies()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        call(*client, {"SET", "a-string", "x"});
        const auto wrongType = call(*client, {"LPUSH", "a-string", "y"});
        QVERIFY(wrongType);
        QCOMPARE(wrongType->type, RedisReply::Type::Error);
        QVERIFY(wrongType->isError());
        QVERIFY2(wrongType->string.startsWith("WRONGTYPE"), wrongType->string.constData());

        const auto unknown = call(*client, {"NOSUCHCOMMAND"});
        QVERIFY(unknown && unknown->type == RedisReply::Type::Error);

        const auto empty = call(*client, {});
        QVERIFY(empty && empty->type == RedisReply::Type::Error);

        // Push-mode commands would hand hiredis a callback it calls many times.
        const auto subscribe = call(*client, {"subscribe", "channel"});
        QVERIFY(subscribe && subscribe->type == RedisReply::Type::Error);
        const auto monitor = call(*client, {"MONITOR"});
        QVERIFY(monitor && monitor->type == RedisReply::Type::Error);
        // The connection is still a plain request/response one.
        const auto ping = call(*client, {"PING"});
        QVERIFY(ping && ping->type == RedisReply::Type::Status && ping->string == "PONG");
    }

    void pipeliningKeepsOrder()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        call(*client, {"DEL", "pipeline"});
        QList<long long> seen;
        for (int i = 0; i < 100; ++i)
            client->command({"INCR", "pipeline"}, [&seen](const RedisReply &reply) { seen.append(reply.integer); });
        QVERIFY(seen.isEmpty()); // nothing is answered synchronously
        QTRY_COMPARE(seen.size(), 100);
        for (int i = 0; i < 100; ++i)
            QCOMPARE(seen.at(i), i + 1);
    }

    void ttlIsSet()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        QCOMPARE(call(*client, {"SET", "with-ttl", "v", "EX", "60"})->string, QByteArray("OK"));
        const auto ttl = call(*client, {"TTL", "with-ttl"});
        QVERIFY(ttl);
        QCOMPARE(ttl->type, RedisReply::Type::Integer);
        QVERIFY2(ttl->integer >= 1 && ttl->integer <= 60, QByteArray::number(ttl->integer).constData());
    }

    void selectsTheDatabase()
    {
        auto db2 = makeClient(m_server.url(2));
        auto db0 = makeClient(m_server.url(0));
        QTRY_VERIFY(db2->isConnected() && db0->isConnected());
        call(*db0, {"DEL", "where"});
        QCOMPARE(call(*db2, {"SET", "where", "db2"})->string, QByteArray("OK"));
        QCOMPARE(call(*db2, {"GET", "where"})->string, QByteArray("db2"));
        QCOMPARE(call(*db0, {"GET", "where"})->type, RedisReply::Type::Nil);

        auto outOfRange = makeClient(m_server.url(999));
        QTRY_VERIFY(outOfRange->lastError().contains(QLatin1String("SELECT failed")));
        QVERIFY(!outOfRange->isConnected());
    }

    void authentication()
    {
        const QString password = QStringLiteral("s3:cr@t/pw%#?");
        RedisServer secured(password);
        QVERIFY2(secured.start(), qPrintable(secured.errorString()));

        // The test sink proves the password never reaches a log line.
        std::ostringstream logged;
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logged);
        auto logger = apex::log::get("redis");
        logger->sinks().push_back(sink);
        const auto previousLevel = logger->level();
        logger->set_level(spdlog::level::debug);
        auto restoreLogger = qScopeGuard([&] {
            logger->sinks().pop_back();
            logger->set_level(previousLevel);
        });

        // Right password, percent-encoded and raw.
        auto encoded = makeClient(secured.url());
        QTRY_VERIFY(encoded->isConnected());
        QCOMPARE(call(*encoded, {"SET", "k", "v"})->string, QByteArray("OK"));
        auto raw = makeClient(QStringLiteral("redis://:%1@127.0.0.1:%2").arg(password).arg(secured.port()));
        QTRY_VERIFY(raw->isConnected());
        QCOMPARE(call(*raw, {"GET", "k"})->string, QByteArray("v"));

        // Wrong password: never Connected, a clear reason, commands refused.
        auto wrong = makeClient(QStringLiteral("redis://:not-it@127.0.0.1:%1").arg(secured.port()));
        QSignalSpy wrongStates(wrong.get(), &RedisClient::stateChanged);
        QTRY_VERIFY(wrong->lastError().contains(QLatin1String("authentication failed")));
        QVERIFY2(wrong->lastError().contains(QLatin1String("WRONGPASS")), qPrintable(wrong->lastError()));
        QVERIFY(!statesOf(wrongStates).contains(RedisClient::State::Connected));
        const auto refused = call(*wrong, {"GET", "k"});
        QVERIFY(refused);
        QCOMPARE(refused->type, RedisReply::Type::Disconnected);

        // No password against a server that needs one.
        auto none = makeClient(QStringLiteral("redis://127.0.0.1:%1").arg(secured.port()));
        QTRY_VERIFY(none->lastError().contains(QLatin1String("requires a password")));
        QVERIFY(!none->isConnected());

        // A password against a server without one is a misconfiguration too.
        auto extra = makeClient(QStringLiteral("redis://:unexpected@127.0.0.1:%1").arg(m_server.port()));
        QTRY_VERIFY(extra->lastError().contains(QLatin1String("authentication failed")));

        logger->flush();
        const QString log = QString::fromStdString(logged.str());
        QVERIFY(log.contains(QLatin1String("authentication failed")));
        QVERIFY(!log.contains(password));
        QVERIFY(!log.contains(QLatin1String("not-it")));
        QVERIFY(!log.contains(QLatin1String("unexpected")));
    }

    void commandsWhileDownAnswerPromptly()
    {
        // A port nobody listens on: the client keeps retrying in the background.
        const quint16 deadPort = apex::test::freeLoopbackPort();
        auto client = makeClient(QStringLiteral("redis://127.0.0.1:%1").arg(deadPort));
        QTRY_VERIFY(!client->lastError().isEmpty());
        QElapsedTimer elapsed;
        elapsed.start();
        bool answered = false;
        RedisReply reply;
        client->command({"GET", "k"}, [&](const RedisReply &r) {
            answered = true;
            reply = r;
        });
        QVERIFY(!answered); // on a later event-loop turn, never inside command()
        QTRY_VERIFY_WITH_TIMEOUT(answered, 1000);
        QCOMPARE(reply.type, RedisReply::Type::Disconnected);
        QVERIFY(reply.isError());
        QVERIFY(elapsed.elapsed() < 1000);
    }

    void connectTimeoutOnSilentServer()
    {
        // Accepts TCP but never answers: only the QTimer guard can notice.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        QList<QTcpSocket *> accepted;
        connect(&silent, &QTcpServer::newConnection, this, [&] {
            while (QTcpSocket *s = silent.nextPendingConnection())
                accepted.append(s);
        });
        RedisClient::Settings settings;
        settings.url = QStringLiteral("redis://127.0.0.1:%1").arg(silent.serverPort());
        settings.connectTimeoutMs = 200;
        settings.reconnectInitialMs = 50;
        settings.reconnectMaxMs = 100;
        RedisClient client(settings);
        QSignalSpy spy(&client, &RedisClient::stateChanged);
        client.start();
        QTRY_VERIFY(client.lastError().contains(QLatin1String("no answer within 200 ms")));
        QTRY_VERIFY(accepted.size() >= 2); // and it tries again
        const QList<RedisClient::State> states = statesOf(spy);
        QVERIFY(!states.contains(RedisClient::State::Connected));
        for (int i = 1; i < states.size(); ++i)
            QVERIFY(states.at(i) != states.at(i - 1)); // transitions only
    }

    void connectionLossAndReconnect()
    {
        RedisServer server;
        QVERIFY2(server.start(), qPrintable(server.errorString()));
        auto client = makeClient(server.url());
        auto observer = makeClient(server.url());
        QSignalSpy spy(client.get(), &RedisClient::stateChanged);
        QTRY_VERIFY(client->isConnected() && observer->isConnected());
        QCOMPARE(call(*client, {"SET", "before", "1"})->string, QByteArray("OK"));

        // BLPOP keeps the answer pending on the server until it dies.
        QList<RedisReply> pending;
        client->command({"BLPOP", "never-filled", "0"}, [&](const RedisReply &r) { pending.append(r); });
        client->command({"BLPOP", "never-filled-2", "0"}, [&](const RedisReply &r) { pending.append(r); });
        QTRY_VERIFY(blockedClients(*observer) == 1); // the first blocks the server side, the second queues behind it
        QVERIFY(pending.isEmpty());

        server.kill();
        QTRY_COMPARE(pending.size(), 2);
        QCOMPARE(pending.at(0).type, RedisReply::Type::Disconnected);
        QCOMPARE(pending.at(1).type, RedisReply::Type::Disconnected);
        QTRY_VERIFY(!client->isConnected());
        QTRY_VERIFY(statesOf(spy).contains(RedisClient::State::Disconnected));
        QVERIFY(!client->lastError().isEmpty());

        QElapsedTimer elapsed;
        elapsed.start();
        const auto whileDown = call(*client, {"GET", "before"}, 1000);
        QVERIFY(whileDown);
        QCOMPARE(whileDown->type, RedisReply::Type::Disconnected);
        QVERIFY(elapsed.elapsed() < 500);

        QVERIFY2(server.restart(), qPrintable(server.errorString()));
        QTRY_VERIFY_WITH_TIMEOUT(client->isConnected(), 10000);
        QCOMPARE(call(*client, {"SET", "after", "2"})->string, QByteArray("OK"));
        QCOMPARE(call(*client, {"GET", "after"})->string, QByteArray("2"));
        QVERIFY(client->lastError().isEmpty());

        QTRY_COMPARE(statesOf(spy).last(), RedisClient::State::Connected);
        const QList<RedisClient::State> states = statesOf(spy);
        for (int i = 1; i < states.size(); ++i)
            QVERIFY(states.at(i) != states.at(i - 1));
    }

    void hungServerIsDetectedByTheCommandTimeout()
    {
        RedisClient::Settings settings;
        settings.url = m_server.url();
        settings.commandTimeoutMs = 300;
        settings.reconnectInitialMs = 20;
        auto client = std::make_unique<RedisClient>(settings);
        client->start();
        QTRY_VERIFY(client->isConnected());
        // BLPOP stands in for a server that stopped answering.
        std::optional<RedisReply> blocked;
        QString errorSeen; // read inside: the client may reconnect (and clear it) right after
        client->command({"BLPOP", "never-filled-6", "0"}, [&](const RedisReply &r) {
            blocked = r;
            errorSeen = client->lastError();
        });
        QTRY_VERIFY(blocked.has_value());
        QCOMPARE(blocked->type, RedisReply::Type::Disconnected);
        QVERIFY2(errorSeen.contains(QLatin1String("no reply within 300 ms")), qPrintable(errorSeen));
        QVERIFY2(blocked->string.contains("no reply within 300 ms"), blocked->string.constData());
        QTRY_VERIFY(client->isConnected()); // rebuilt by itself
        QCOMPARE(call(*client, {"PING"})->string, QByteArray("PONG"));

        // The same, with the callback destroying the client from inside the abort.
        bool destroyed = false;
        client->command({"BLPOP", "never-filled-7", "0"}, [&](const RedisReply &) {
            client.reset();
            destroyed = true;
        });
        QTRY_VERIFY(destroyed);
        QTest::qWait(50);
    }

    void pendingCommandsAreBounded()
    {
        RedisClient::Settings settings;
        settings.url = m_server.url();
        settings.commandTimeoutMs = 0;
        settings.maxPendingCommands = 3;
        RedisClient client(settings);
        client.start();
        QTRY_VERIFY(client.isConnected());
        QList<RedisReply> replies;
        const auto record = [&](const RedisReply &r) { replies.append(r); };
        client.command({"BLPOP", "never-filled-8", "0"}, record);
        client.command({"PING"}, record);
        client.command({"PING"}, record);
        client.command({"PING"}, record); // the fourth waiting command
        QTRY_COMPARE(replies.size(), 1);
        QCOMPARE(replies.at(0).type, RedisReply::Type::Error);
        QVERIFY(replies.at(0).string.contains("too many commands"));
        // Unblock: the three queued ones are answered in order.
        auto other = makeClient(m_server.url());
        QTRY_VERIFY(other->isConnected());
        call(*other, {"RPUSH", "never-filled-8", "x"});
        QTRY_COMPARE(replies.size(), 4);
        QCOMPARE(replies.at(1).type, RedisReply::Type::Array);
        QCOMPARE(replies.at(2).string, QByteArray("PONG"));
        QCOMPARE(client.state(), RedisClient::State::Connected);
    }

    void destroyingTheClientDropsPendingCallbacks()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        int calls = 0;
        client->command({"BLPOP", "never-filled-3", "0"}, [&](const RedisReply &) { ++calls; });
        client->command({"PING"}, [&](const RedisReply &) { ++calls; });
        client.reset();
        QTest::qWait(100); // proves a negative: nothing may arrive later
        QCOMPARE(calls, 0);

        // Commands answered "Disconnected later" are dropped as well.
        auto down = makeClient(QStringLiteral("redis://127.0.0.1:%1").arg(apex::test::freeLoopbackPort()));
        down->command({"PING"}, [&](const RedisReply &) { ++calls; });
        down.reset();
        QTest::qWait(50);
        QCOMPARE(calls, 0);
    }

    void callbackMayDestroyTheClient()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        int later = 0;
        bool first = false;
        client->command({"PING"}, [&](const RedisReply &reply) {
            first = reply.type == RedisReply::Type::Status;
            client.reset(); // inside a hiredis callback: the free must be deferred
        });
        client->command({"PING"}, [&](const RedisReply &) { ++later; });
        QTRY_VERIFY(first);
        QVERIFY(!client);
        QTest::qWait(50);
        QCOMPARE(later, 0);
    }

    void callbackMayDestroyTheClientOnConnectionLoss()
    {
        RedisServer server;
        QVERIFY2(server.start(), qPrintable(server.errorString()));
        auto client = makeClient(server.url());
        auto observer = makeClient(server.url());
        QTRY_VERIFY(client->isConnected() && observer->isConnected());
        int disconnected = 0;
        int later = 0;
        client->command({"BLPOP", "never-filled-4", "0"}, [&](const RedisReply &reply) {
            disconnected += reply.type == RedisReply::Type::Disconnected;
            client->command({"PING"}, [&](const RedisReply &) { ++later; }); // refused by hiredis, answered later
            client.reset();
        });
        client->command({"BLPOP", "never-filled-5", "0"}, [&](const RedisReply &) { ++later; });
        QTRY_VERIFY(blockedClients(*observer) == 1);
        server.kill();
        QTRY_COMPARE(disconnected, 1);
        QVERIFY(!client);
        QTest::qWait(50);
        QCOMPARE(later, 0);
    }

    void runsOnTheThreadItIsMovedTo()
    {
        QThread thread;
        thread.setObjectName(QStringLiteral("redis-test-engine"));
        thread.start();
        RedisClient::Settings settings;
        settings.url = m_server.url();
        auto *client = new RedisClient(settings);
        client->moveToThread(&thread);
        std::atomic<bool> answeredOnThread{false};
        QMetaObject::invokeMethod(client, [client, &thread, &answeredOnThread] {
            QObject::connect(client, &RedisClient::stateChanged, client, [=, &thread, &answeredOnThread](RedisClient::State s) {
                if (s != RedisClient::State::Connected)
                    return;
                client->command({"PING"}, [&thread, &answeredOnThread](const RedisReply &reply) {
                    answeredOnThread = reply.string == "PONG" && QThread::currentThread() == &thread;
                });
            });
            client->start();
        });
        QTRY_VERIFY(answeredOnThread.load());
        QMetaObject::invokeMethod(client, [client] { delete client; }, Qt::BlockingQueuedConnection);
        thread.quit();
        QVERIFY(thread.wait(5000));
    }

    void cleanupTestCase() { m_server.stop(); }

private:
    RedisServer m_server;
};

QTEST_GUILESS_MAIN(TestRedisClient)
#include "test_redisclient.moc"
