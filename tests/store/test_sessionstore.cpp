#include "storetesthelpers.h"

#include "redisserver.h"
#include "testsupport.h"
#include "store/memorysessionstore.h"
#include "store/redisclient.h"
#include "store/rediskeys.h"
#include "store/redissessionstore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>
#include <optional>

using namespace apex;
using apex::test::call;
using apex::test::makeClient;
using apex::test::RedisServer;

namespace {

SessionRecord sampleRecord(const QString &tenant, const QString &kind, const QString &id)
{
    SessionRecord record;
    record.tenantId = tenant;
    record.kind = kind;
    record.id = id;
    record.turns = {{QStringLiteral("caller"), QStringLiteral("Hallo, ich möchte einen Termin 📅")},
                    {QStringLiteral("agent"), QStringLiteral("Gern. \"Wann\" passt es Ihnen?\n")}};
    record.createdAt = QDateTime(QDate(2026, 11, 24), QTime(16, 4, 46, 123), Qt::UTC);
    record.updatedAt = QDateTime(QDate(2026, 11, 24), QTime(16, 5, 2, 7), Qt::UTC);
    return record;
}

bool sameRecord(const SessionRecord &a, const SessionRecord &b)
{
    if (a.tenantId != b.tenantId || a.kind != b.kind || a.id != b.id || a.createdAt != b.createdAt
        || a.updatedAt != b.updatedAt || a.turns.size() != b.turns.size())
        return false;
    for (qsizetype i = 0; i < a.turns.size(); ++i) {
        if (a.turns.at(i).role != b.turns.at(i).role || a.turns.at(i).text != b.turns.at(i).text)
            return false;
    }
    return true;
}

// Waits for a store's asynchronous answer. The result is shared so a late
// answer after a failed wait cannot write into a dead stack frame.
std::optional<bool> saveAndWait(SessionStore &store, const SessionRecord &record)
{
    auto result = std::make_shared<std::optional<bool>>();
    store.save(record, [result](bool ok) { *result = ok; });
    (void)QTest::qWaitFor([&] { return result->has_value(); }, 5000);
    return *result;
}

// Outer nullopt: no answer at all; inner: the store's own answer.
std::optional<std::optional<SessionRecord>> loadAndWait(SessionStore &store, const QString &tenant,
                                                        const QString &kind, const QString &id)
{
    auto result = std::make_shared<std::optional<std::optional<SessionRecord>>>();
    store.load(tenant, kind, id, [result](std::optional<SessionRecord> r) { *result = std::move(r); });
    (void)QTest::qWaitFor([&] { return result->has_value(); }, 5000);
    return *result;
}

} // namespace

class TestSessionStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!RedisServer::executable().isEmpty(), "redis-server missing: run packaging/install-deps.sh");
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
    }

    // --- RedisKeys ----------------------------------------------------------

    void tenantIds()
    {
        QVERIFY(RedisKeys::isValidTenantId(u"acme"));
        QVERIFY(RedisKeys::isValidTenantId(u"Acme_Dental-2"));
        QVERIFY(RedisKeys::isValidTenantId(QString(64, QLatin1Char('a'))));
        QVERIFY(!RedisKeys::isValidTenantId(QString(65, QLatin1Char('a'))));
        QVERIFY(!RedisKeys::isValidTenantId(u""));
        QVERIFY(!RedisKeys::isValidTenantId(u"a:b"));
        QVERIFY(!RedisKeys::isValidTenantId(u"a b"));
        QVERIFY(!RedisKeys::isValidTenantId(u"a{b}"));
        QVERIFY(!RedisKeys::isValidTenantId(u"a*"));
        QVERIFY(!RedisKeys::isValidTenantId(u"tenänt"));
    }

    void keysAreNamespacedAndEscaped()
    {
        QCOMPARE(RedisKeys::key(QStringLiteral("acme"), {"tts", "0123abcd"}), QByteArray("apex:acme:tts:0123abcd"));
        QCOMPARE(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("call"),
                                       QStringLiteral("CA0123456789abcdef0123456789abcdef")),
                 QByteArray("apex:acme:session:call:CA0123456789abcdef0123456789abcdef"));
        QCOMPARE(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+4915112345678")),
                 QByteArray("apex:acme:session:chat:+4915112345678"));
        QCOMPARE(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("whatsapp:+49151")),
                 QByteArray("apex:acme:session:chat:whatsapp%3A+49151"));
        QCOMPARE(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("4915@c.us")),
                 QByteArray("apex:acme:session:chat:4915@c.us"));
        QCOMPARE(RedisKeys::escapePart("a:b{c}*?[%] \n\xff"), QByteArray("a%3Ab%7Bc%7D%2A%3F%5B%25%5D%20%0A%FF"));

        // An id cannot climb into another tenant's namespace or another key.
        const QByteArray forged = RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("call"),
                                                        QStringLiteral("x:apex:other:session:call:y"));
        QVERIFY(forged.startsWith("apex:acme:session:call:"));
        QCOMPARE(forged.count(':'), 4);
        // Distinct ids stay distinct keys (escaping is injective: '%' is escaped too).
        QVERIFY(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("a:b"))
                != RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("a%3Ab")));

        QVERIFY(RedisKeys::key(QStringLiteral("bad:tenant"), {"x"}).isEmpty());
        QVERIFY(RedisKeys::key(QStringLiteral("acme"), {}).isEmpty());
        QVERIFY(RedisKeys::key(QStringLiteral("acme"), {"x", ""}).isEmpty());
        QVERIFY(RedisKeys::key(QStringLiteral("acme"), {QByteArray(257, 'x')}).isEmpty());
        QVERIFY(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("Call"), QStringLiteral("x")).isEmpty());
        QVERIFY(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("ca:ll"), QStringLiteral("x")).isEmpty());
        QVERIFY(RedisKeys::sessionKey(QStringLiteral("acme"), QStringLiteral("call"), QString()).isEmpty());
    }

    void jsonFormat()
    {
        const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA1"));
        const QByteArray json = RedisSessionStore::toJson(record);
        const QJsonObject object = QJsonDocument::fromJson(json).object();
        QCOMPARE(object.value(QLatin1String("tenantId")).toString(), QStringLiteral("acme"));
        QCOMPARE(object.value(QLatin1String("kind")).toString(), QStringLiteral("call"));
        QCOMPARE(object.value(QLatin1String("id")).toString(), QStringLiteral("CA1"));
        QCOMPARE(object.value(QLatin1String("createdAt")).toString(), QStringLiteral("2026-11-24T16:04:46.123Z"));
        QCOMPARE(object.value(QLatin1String("updatedAt")).toString(), QStringLiteral("2026-11-24T16:05:02.007Z"));
        QCOMPARE(object.value(QLatin1String("turns")).toArray().size(), 2);
        QCOMPARE(object.value(QLatin1String("turns")).toArray().at(0).toObject().value(QLatin1String("role")).toString(),
                 QStringLiteral("caller"));
        const auto back = RedisSessionStore::fromJson(json);
        QVERIFY(back);
        QVERIFY(sameRecord(*back, record));

        QVERIFY(!RedisSessionStore::fromJson("not json"));
        QVERIFY(!RedisSessionStore::fromJson("[1,2]"));
        QVERIFY(!RedisSessionStore::fromJson(R"({"tenantId":"acme","kind":"call","id":"x"})"));
    }

    // --- RedisSessionStore -------------------------------------------------

    void redisRoundTrip()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore store(client.get());
        const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA42"));
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true));
        const auto loaded = loadAndWait(store, QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA42"));
        QVERIFY(loaded && *loaded);
        QVERIFY(sameRecord(**loaded, record));

        const auto raw = call(*client, {"GET", "apex:acme:session:call:CA42"});
        QVERIFY(raw && raw->type == RedisReply::Type::String);
        QCOMPARE(raw->string, RedisSessionStore::toJson(record));

        const auto missing = loadAndWait(store, QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA43"));
        QVERIFY(missing);
        QVERIFY(!*missing);
    }

    void redisMissingTimesAreStamped()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore store(client.get());
        SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+4915100"));
        record.createdAt = {};
        record.updatedAt = {};
        const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true));
        const auto loaded = loadAndWait(store, QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+4915100"));
        QVERIFY(loaded && *loaded);
        QVERIFY((*loaded)->createdAt >= before);
        QVERIFY((*loaded)->updatedAt >= before);
        QCOMPARE((*loaded)->createdAt.timeSpec(), Qt::UTC);
    }

    void ttlIsSetAndRefreshedOnSave()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore store(client.get(), std::chrono::seconds(600));
        const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+4930123"));
        const QByteArray key = RedisKeys::sessionKey(record.tenantId, record.kind, record.id);
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true));
        const auto ttl = call(*client, {"TTL", key});
        QVERIFY(ttl && ttl->type == RedisReply::Type::Integer);
        QVERIFY2(ttl->integer > 590 && ttl->integer <= 600, QByteArray::number(ttl->integer).constData());

        // Age the key by hand, then save again: the TTL starts over.
        QCOMPARE(call(*client, {"EXPIRE", key, "5"})->integer, 1);
        QVERIFY(call(*client, {"TTL", key})->integer <= 5);
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true));
        QVERIFY(call(*client, {"TTL", key})->integer > 590);

        // The default is a day.
        RedisSessionStore defaults(client.get());
        QCOMPARE(saveAndWait(defaults, record), std::optional<bool>(true));
        const auto dayTtl = call(*client, {"TTL", key});
        QVERIFY(dayTtl->integer > 86400 - 10 && dayTtl->integer <= 86400);
    }

    void tenantIsolation()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore store(client.get());
        const SessionRecord record = sampleRecord(QStringLiteral("tenantA"), QStringLiteral("call"), QStringLiteral("CA77"));
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true));

        const auto other = loadAndWait(store, QStringLiteral("tenantB"), QStringLiteral("call"), QStringLiteral("CA77"));
        QVERIFY(other);
        QVERIFY(!*other);
        QCOMPARE(call(*client, {"EXISTS", "apex:tenantB:session:call:CA77"})->integer, 0);
        QCOMPARE(call(*client, {"EXISTS", "apex:tenantA:session:call:CA77"})->integer, 1);
        const auto keysOfB = call(*client, {"KEYS", "apex:tenantB:*"});
        QVERIFY(keysOfB && keysOfB->type == RedisReply::Type::Array);
        QVERIFY(keysOfB->elements.isEmpty());

        // An id shaped like another tenant's key stays inside tenant B's namespace.
        const SessionRecord sneaky = sampleRecord(QStringLiteral("tenantB"), QStringLiteral("call"),
                                                  QStringLiteral("x:apex:tenantA:session:call:CA77"));
        QCOMPARE(saveAndWait(store, sneaky), std::optional<bool>(true));
        const auto mine = loadAndWait(store, QStringLiteral("tenantA"), QStringLiteral("call"), QStringLiteral("CA77"));
        QVERIFY(mine && *mine);
        QVERIFY(sameRecord(**mine, record));
        const auto keysOfBAfter = call(*client, {"KEYS", "apex:tenantB:*"});
        QCOMPARE(keysOfBAfter->elements.size(), 1);
        QCOMPARE(keysOfBAfter->elements.at(0).string, QByteArray("apex:tenantB:session:call:x%3Aapex%3AtenantA%3Asession%3Acall%3ACA77"));

        // A record stored under one key but naming another session is refused on load.
        call(*client, {"SET", "apex:tenantB:session:call:CA77", RedisSessionStore::toJson(record)});
        const auto forged = loadAndWait(store, QStringLiteral("tenantB"), QStringLiteral("call"), QStringLiteral("CA77"));
        QVERIFY(forged);
        QVERIFY(!*forged);
    }

    void invalidInputIsRefused()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore redis(client.get());
        MemorySessionStore memory;
        for (SessionStore *store : {static_cast<SessionStore *>(&redis), static_cast<SessionStore *>(&memory)}) {
            QCOMPARE(saveAndWait(*store, sampleRecord(QStringLiteral("a:b"), QStringLiteral("call"), QStringLiteral("x"))),
                     std::optional<bool>(false));
            QCOMPARE(saveAndWait(*store, sampleRecord(QStringLiteral("acme"), QStringLiteral("call"), QString())),
                     std::optional<bool>(false));
            QCOMPARE(saveAndWait(*store, sampleRecord(QStringLiteral("acme"), QStringLiteral("CALL"), QStringLiteral("x"))),
                     std::optional<bool>(false));
            const auto loaded = loadAndWait(*store, QStringLiteral("a:b"), QStringLiteral("call"), QStringLiteral("x"));
            QVERIFY(loaded);
            QVERIFY(!*loaded);
        }
        QCOMPARE(call(*client, {"KEYS", "*a:b*"})->elements.size(), 0);
    }

    void corruptValueLoadsAsNothing()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore store(client.get());
        call(*client, {"SET", "apex:acme:session:call:CORRUPT", "{not json"});
        const auto loaded = loadAndWait(store, QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CORRUPT"));
        QVERIFY(loaded);
        QVERIFY(!*loaded);
        // Wrong type under the key: an error reply, reported as nothing.
        call(*client, {"DEL", "apex:acme:session:call:LIST"});
        call(*client, {"RPUSH", "apex:acme:session:call:LIST", "x"});
        const auto wrongType = loadAndWait(store, QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("LIST"));
        QVERIFY(wrongType);
        QVERIFY(!*wrongType);
    }

    void chatSurvivesAnEngineRestart()
    {
        const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("4915112345678@c.us"));
        {
            auto client = makeClient(m_server.url());
            QTRY_VERIFY(client->isConnected());
            auto store = std::make_unique<RedisSessionStore>(client.get());
            QCOMPARE(saveAndWait(*store, record), std::optional<bool>(true));
            store.reset();
            client.reset();
        }
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore store(client.get());
        const auto loaded = loadAndWait(store, record.tenantId, record.kind, record.id);
        QVERIFY(loaded && *loaded);
        QVERIFY(sameRecord(**loaded, record));
    }

    void redisDownMeansFalseAndNothing()
    {
        RedisServer server;
        QVERIFY2(server.start(), qPrintable(server.errorString()));
        auto client = makeClient(server.url());
        QTRY_VERIFY(client->isConnected());
        RedisSessionStore store(client.get());
        const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA9"));
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true));

        server.kill();
        QTRY_VERIFY(!client->isConnected());
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(false));
        const auto loaded = loadAndWait(store, record.tenantId, record.kind, record.id);
        QVERIFY(loaded);
        QVERIFY(!*loaded);

        // A store whose client is gone behaves the same.
        client.reset();
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(false));
        const auto orphan = loadAndWait(store, record.tenantId, record.kind, record.id);
        QVERIFY(orphan);
        QVERIFY(!*orphan);
    }

    void neverConnectedClient()
    {
        auto client = makeClient(QStringLiteral("redis://127.0.0.1:%1").arg(apex::test::freeLoopbackPort()));
        RedisSessionStore store(client.get());
        bool answered = false;
        bool ok = true;
        store.save(sampleRecord(QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA1")), [&](bool r) {
            answered = true;
            ok = r;
        });
        QVERIFY(!answered);
        QTRY_VERIFY_WITH_TIMEOUT(answered, 1000);
        QVERIFY(!ok);
    }

    void destroyedStoreDropsCallbacks()
    {
        auto client = makeClient(m_server.url());
        QTRY_VERIFY(client->isConnected());
        int calls = 0;
        {
            RedisSessionStore redis(client.get());
            MemorySessionStore memory;
            const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA5"));
            redis.save(record, [&](bool) { ++calls; });
            memory.save(record, [&](bool) { ++calls; });
            memory.load(QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA5"),
                        [&](std::optional<SessionRecord>) { ++calls; });
        }
        // The client still answers the SET: prove that answer goes nowhere.
        QVERIFY(call(*client, {"PING"}));
        QTest::qWait(20);
        QCOMPARE(calls, 0);
    }

    // --- MemorySessionStore -------------------------------------------------

    void memoryRoundTripIsAsynchronous()
    {
        MemorySessionStore store;
        const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA1"));
        bool saved = false;
        store.save(record, [&](bool ok) { saved = ok; });
        QVERIFY(!saved); // next event-loop turn, like Redis
        QTRY_VERIFY(saved);
        const auto loaded = loadAndWait(store, QStringLiteral("acme"), QStringLiteral("call"), QStringLiteral("CA1"));
        QVERIFY(loaded && *loaded);
        QVERIFY(sameRecord(**loaded, record));

        const auto otherTenant = loadAndWait(store, QStringLiteral("other"), QStringLiteral("call"), QStringLiteral("CA1"));
        QVERIFY(otherTenant);
        QVERIFY(!*otherTenant);
    }

    void memoryExpiryAndRefresh()
    {
        qint64 nowMs = 1'000'000;
        MemorySessionStore store(std::chrono::seconds(60), [&nowMs] { return nowMs; });
        const SessionRecord record = sampleRecord(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+491"));
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true));

        nowMs += 59'000;
        QVERIFY(*loadAndWait(store, QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+491")));
        QCOMPARE(saveAndWait(store, record), std::optional<bool>(true)); // refreshes: 60 s from here

        nowMs += 59'000; // 118 s after the first save: alive only thanks to the refresh
        QVERIFY(*loadAndWait(store, QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+491")));

        nowMs += 1'000;
        QVERIFY(!*loadAndWait(store, QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+491")));
        QCOMPARE(store.size(), 0); // expired entries found by a load are dropped

        // Expired entries nobody loads are swept by later saves.
        QCOMPARE(saveAndWait(store, sampleRecord(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+492"))),
                 std::optional<bool>(true));
        nowMs += 120'000;
        QCOMPARE(saveAndWait(store, sampleRecord(QStringLiteral("acme"), QStringLiteral("chat"), QStringLiteral("+493"))),
                 std::optional<bool>(true));
        QCOMPARE(store.size(), 1);
    }

    void cleanupTestCase() { m_server.stop(); }

private:
    RedisServer m_server;
};

QTEST_GUILESS_MAIN(TestSessionStore)
#include "test_sessionstore.moc"
