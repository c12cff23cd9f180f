#include "countingsynthesizer.h"
#include "redisserver.h"
#include "testsupport.h"

#include "runtime/prewarmer.h"
#include "pipeline/sentencesplitter.h"
#include "store/redisclient.h"
#include "tenancy/engineconfig.h"
#include "ttscache/cachingsynthesizer.h"
#include "tts/embedded/embeddedsynthesizer.h"
#include "ttscache/ttscache.h"
#include "ttscache/ttscachejob.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <csignal>
#include <memory>
#include <optional>

using namespace apex;
using apex::test::CountingSynthesizer;

namespace {

// What one job delivered, recorded on the job's thread.
struct Outcome
{
    QList<QByteArray> chunks;
    bool finished = false;
    QString failure;
    bool finishedBeforeFirstChunk = false;
    QByteArray audio() const { return chunks.join(); }
    bool ended() const { return finished || !failure.isEmpty(); }
};

std::shared_ptr<Outcome> follow(SynthesisJob *job)
{
    auto out = std::make_shared<Outcome>();
    QObject::connect(job, &SynthesisJob::audio, job, [out](const QByteArray &a) { out->chunks.append(a); });
    QObject::connect(job, &SynthesisJob::finished, job, [out] {
        out->finished = true;
        out->finishedBeforeFirstChunk = out->chunks.isEmpty();
    });
    QObject::connect(job, &SynthesisJob::failed, job, [out](const QString &r) { out->failure = r; });
    return out;
}

SynthesisRequest request(const QString &text, const QString &tenant = QStringLiteral("demo"),
                         const QString &voice = QStringLiteral("slt"))
{
    return SynthesisRequest{text, voice, QStringLiteral("en"), tenant};
}

std::unique_ptr<RedisClient> connectedClient(const QString &url)
{
    RedisClient::Settings settings;
    settings.url = url;
    settings.reconnectInitialMs = 20;
    settings.reconnectMaxMs = 200;
    auto client = std::make_unique<RedisClient>(settings);
    client->start();
    return client;
}

std::optional<RedisReply> redisCall(RedisClient &client, const QList<QByteArray> &argv)
{
    auto result = std::make_shared<std::optional<RedisReply>>();
    client.command(argv, [result](const RedisReply &reply) { *result = reply; });
    (void)QTest::qWaitFor([&] { return result->has_value(); }, 5000);
    return *result;
}

} // namespace

class TestTtsCache : public QObject
{
    Q_OBJECT

private:
    apex::test::RedisServer m_server;
    std::unique_ptr<RedisClient> m_admin; // the test's own view of Redis

    bool redisHasKey(const QByteArray &key)
    {
        const auto r = redisCall(*m_admin, {"EXISTS", key});
        return r && r->integer == 1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
        m_admin = connectedClient(m_server.url());
        QTRY_VERIFY(m_admin->isConnected());
    }

    void init()
    {
        if (!m_server.isRunning())
            QVERIFY2(m_server.restart(), qPrintable(m_server.errorString()));
        QTRY_VERIFY_WITH_TIMEOUT(m_admin->isConnected(), 5000);
        QVERIFY(redisCall(*m_admin, {"FLUSHALL"}).has_value());
    }

    // --- keys -----------------------------------------------------------

    void keyNormalisation()
    {
        const QString composed = QStringLiteral("Caf\u00E9 au lait.");
        const QString decomposed = QStringLiteral("Cafe\u0301 au lait.");
        QVERIFY(composed != decomposed);
        auto key = [](const QString &text, const QString &tenant = QStringLiteral("demo"),
                      const QString &provider = QStringLiteral("embedded"), const QString &voice = QStringLiteral("slt"),
                      const QString &format = QStringLiteral("mulaw8k"), const QString &language = QStringLiteral("en")) {
            return TtsCacheKey::make(tenant, provider, voice, language, text, format).digestHex;
        };
        QCOMPARE(key(composed), key(decomposed));
        QCOMPARE(key(QStringLiteral("  Hello,\t\n world. \u00A0")), key(QStringLiteral("Hello, world.")));
        QCOMPARE(TtsCacheKey::normalizeText(QStringLiteral(" a \r\n\t b  ")), QStringLiteral("a b"));
        // Case and punctuation change prosody: they stay in the key.
        QVERIFY(key(QStringLiteral("Hello.")) != key(QStringLiteral("hello.")));
        QVERIFY(key(QStringLiteral("Hello.")) != key(QStringLiteral("Hello?")));
        const QByteArray base = key(QStringLiteral("Hello."));
        QVERIFY(base != key(QStringLiteral("Hello."), QStringLiteral("other")));
        QVERIFY(base != key(QStringLiteral("Hello."), QStringLiteral("demo"), QStringLiteral("azure")));
        QVERIFY(base != key(QStringLiteral("Hello."), QStringLiteral("demo"), QStringLiteral("embedded"), QStringLiteral("awb")));
        QVERIFY(base != key(QStringLiteral("Hello."), QStringLiteral("demo"), QStringLiteral("embedded"), QStringLiteral("slt"), QStringLiteral("pcm16k")));
        QVERIFY(base != key(QStringLiteral("Hello."), QStringLiteral("demo"), QStringLiteral("embedded"), QStringLiteral("slt"), QStringLiteral("mulaw8k"), QStringLiteral("hi")));
        // Length-prefixed fields: moving a character between fields changes the key.
        QVERIFY(TtsCacheKey::make("ab", "c", "v", "en", "t").digestHex != TtsCacheKey::make("a", "bc", "v", "en", "t").digestHex);
        QCOMPARE(base.size(), 64);
        const TtsCacheKey full = TtsCacheKey::make("demo", "embedded", "slt", "en", "Hello.");
        QCOMPARE(full.redisKey, QByteArray("apex:demo:tts:") + full.digestHex);
        QVERIFY(!TtsCacheKey::make("demo", "embedded", "slt", "en", " \n\t ").isValid());
    }

    // --- memory tier ----------------------------------------------------

    void lruEvictsByBytes()
    {
        const qint64 entry = 1000 + TtsCacheMemory::kEntryOverheadBytes;
        TtsCacheMemory memory(3 * entry);
        memory.insert("a", QByteArray(1000, 'a'));
        memory.insert("b", QByteArray(1000, 'b'));
        memory.insert("c", QByteArray(1000, 'c'));
        QCOMPARE(memory.usedBytes(), 3 * entry);
        QVERIFY(memory.find("a")); // a is now the most recent, b the least
        memory.insert("d", QByteArray(1000, 'd'));
        QVERIFY(!memory.contains("b"));
        QVERIFY(memory.contains("a") && memory.contains("c") && memory.contains("d"));
        QCOMPARE(memory.evictions(), quint64(1));
        // One large value pushes out as many small ones as its bytes need.
        memory.insert("big", QByteArray(2000, 'x'));
        QCOMPARE(memory.entryCount(), 2);
        QVERIFY(memory.usedBytes() <= memory.budgetBytes());
        // Larger than the whole budget: refused, nothing flushed.
        QVERIFY(!memory.insert("huge", QByteArray(int(4 * entry), 'h')));
        QCOMPARE(memory.entryCount(), 2);
        // Replacing a key re-charges it instead of counting it twice.
        memory.insert("d", QByteArray(10, 'd'));
        QCOMPARE(memory.usedBytes(), 10 + 2000 + 2 * TtsCacheMemory::kEntryOverheadBytes);
    }

    void memoryHitIsIdenticalAsynchronousAndCounted()
    {
        CountingSynthesizer inner;
        TtsCache cache;
        CachingSynthesizer caching(&inner, &cache);
        const QString text = QStringLiteral("We are open Monday to Saturday.");

        auto first = follow(caching.synthesize(request(text), this));
        QTRY_VERIFY(first->ended());
        QVERIFY(first->finished);
        QCOMPARE(first->audio(), inner.wholeAudio(text));

        SynthesisJob *job = caching.synthesize(request(text), this);
        auto second = follow(job);
        QVERIFY(second->chunks.isEmpty() && !second->finished); // never inside synthesize()
        QTRY_VERIFY(second->finished);
        QCOMPARE(second->audio(), first->audio());
        QCOMPARE(qobject_cast<TtsCacheJob *>(job)->source(), TtsCacheJob::Source::Memory);
        QCOMPARE(inner.calls.loadRelaxed(), 1);

        const TtsCacheTenantStats s = cache.stats().tenants.value("demo");
        QCOMPARE(s.memoryHits, quint64(1));
        QCOMPARE(s.misses, quint64(1));
        QCOMPARE(s.bytesServed, quint64(first->audio().size()));
        QCOMPARE(s.bytesStored, quint64(first->audio().size()));
        QCOMPARE(s.hitRatio(), 0.5);
        QCOMPARE(s.memoryHitLatency.count, quint64(1));
        QVERIFY(s.memoryHitLatency.quantileUs(0.99) < 1000.0);
        const QJsonObject json = cache.stats().toJson();
        QCOMPARE(json["tenants"]["demo"]["memoryHits"].toInt(), 1);
        QCOMPARE(json["total"]["hitRatio"].toDouble(), 0.5);
        QVERIFY(json["memory"]["usedBytes"].toInt() > 0);
    }

    // --- misses ---------------------------------------------------------

    void missStreamsBeforeCompletionAndWritesBack()
    {
        CountingSynthesizer inner;
        inner.automatic = false;
        RedisClient redis(RedisClient::Settings{m_server.url()});
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache cache;
        cache.setRedisClient(&redis);
        cache.setTenantTtlSeconds("short", 600);
        CachingSynthesizer caching(&inner, &cache);

        const QString text = QStringLiteral("Yes, there is free parking behind the building.");
        for (const QString &tenant : {QStringLiteral("demo"), QStringLiteral("short")}) {
            auto out = follow(caching.synthesize(request(text, tenant), this));
            QTRY_COMPARE(inner.jobs.size(), tenant == "demo" ? 1 : 2);
            auto *fake = inner.jobs.last().data();
            fake->pushNext();
            QTRY_COMPARE(out->chunks.size(), 1); // streamed before the synthesis completed
            QVERIFY(!out->finished);
            const TtsCacheKey key = caching.keyFor(request(text, tenant));
            QVERIFY(!cache.memory().contains(key.digestHex)); // never a partial write-back
            fake->playRest();
            QTRY_VERIFY(out->finished);
            QVERIFY(!out->finishedBeforeFirstChunk);
            QCOMPARE(out->audio(), inner.wholeAudio(text));
            QVERIFY(cache.memory().contains(key.digestHex));
            QTRY_VERIFY(redisHasKey(key.redisKey));
            const auto value = redisCall(*m_admin, {"GET", key.redisKey});
            QCOMPARE(value->string, out->audio());
            const auto ttl = redisCall(*m_admin, {"TTL", key.redisKey});
            const int expected = tenant == "demo" ? 86400 : 600;
            QVERIFY2(ttl->integer > expected - 10 && ttl->integer <= expected, qPrintable(QString::number(ttl->integer)));
        }
        QCOMPARE(cache.stats().redisWrites, quint64(2));
    }

    void failedSynthesisIsNotCached()
    {
        CountingSynthesizer inner;
        inner.automatic = false;
        TtsCache cache;
        CachingSynthesizer caching(&inner, &cache);
        const QString text = QStringLiteral("This will fail half way.");
        auto out = follow(caching.synthesize(request(text), this));
        QTRY_COMPARE(inner.jobs.size(), 1);
        inner.jobs[0]->pushNext();
        inner.jobs[0]->fail("provider exploded");
        QTRY_COMPARE(out->failure, QStringLiteral("provider exploded"));
        QCOMPARE(cache.memory().entryCount(), 0);
        QCOMPARE(caching.inFlightCount(), 0);
        auto again = follow(caching.synthesize(request(text), this));
        QTRY_COMPARE(inner.jobs.size(), 2); // synthesised again, not served a partial
    }

    void allByteValuesRoundTripThroughRedis()
    {
        QByteArray all;
        for (int round = 0; round < 4; ++round)
            for (int b = 0; b < 256; ++b)
                all.append(char(b));
        CountingSynthesizer inner;
        inner.audioFor = [all](const QString &) { return QList<QByteArray>{all.left(300), all.mid(300)}; };
        RedisClient redisA(RedisClient::Settings{m_server.url()});
        redisA.start();
        QTRY_VERIFY(redisA.isConnected());
        TtsCache cacheA;
        cacheA.setRedisClient(&redisA);
        CachingSynthesizer cachingA(&inner, &cacheA);
        const SynthesisRequest req = request(QStringLiteral("Every byte."));
        auto first = follow(cachingA.synthesize(req, this));
        QTRY_VERIFY(first->finished);
        QCOMPARE(first->audio(), all);
        QTRY_COMPARE(cacheA.stats().redisWrites, quint64(1));

        // A second engine: empty memory, same Redis.
        RedisClient redisB(RedisClient::Settings{m_server.url()});
        redisB.start();
        QTRY_VERIFY(redisB.isConnected());
        TtsCache cacheB;
        cacheB.setRedisClient(&redisB);
        CachingSynthesizer cachingB(&inner, &cacheB);
        SynthesisJob *job = cachingB.synthesize(req, this);
        auto second = follow(job);
        QTRY_VERIFY(second->finished);
        QCOMPARE(second->audio(), all);
        QCOMPARE(qobject_cast<TtsCacheJob *>(job)->source(), TtsCacheJob::Source::Redis);
        QCOMPARE(inner.calls.loadRelaxed(), 1);
        QCOMPARE(cacheB.stats().tenants.value("demo").redisHits, quint64(1));
        // ...and the Redis hit was copied into memory.
        auto third = follow(cachingB.synthesize(req, this));
        QTRY_VERIFY(third->finished);
        QCOMPARE(cacheB.stats().tenants.value("demo").memoryHits, quint64(1));
    }

    void redisHitAfterMemoryCleared()
    {
        CountingSynthesizer inner;
        RedisClient redis(RedisClient::Settings{m_server.url()});
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache cache;
        cache.setRedisClient(&redis);
        CachingSynthesizer caching(&inner, &cache);
        const SynthesisRequest req = request(QStringLiteral("See you soon."));
        auto first = follow(caching.synthesize(req, this));
        QTRY_VERIFY(first->finished);
        QTRY_COMPARE(cache.stats().redisWrites, quint64(1));
        cache.clearMemory();
        SynthesisJob *job = caching.synthesize(req, this);
        auto second = follow(job);
        QTRY_VERIFY(second->finished);
        QCOMPARE(second->audio(), first->audio());
        QCOMPARE(qobject_cast<TtsCacheJob *>(job)->source(), TtsCacheJob::Source::Redis);
        QCOMPARE(inner.calls.loadRelaxed(), 1);
        QVERIFY(cache.stats().tenants.value("demo").redisHitLatency.count == 1);
    }

    // --- single flight --------------------------------------------------

    void concurrentIdenticalMissesSynthesiseOnce()
    {
        CountingSynthesizer inner;
        inner.automatic = false;
        RedisClient redis(RedisClient::Settings{m_server.url()});
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache cache;
        cache.setRedisClient(&redis);
        CachingSynthesizer caching(&inner, &cache);
        const QString text = QStringLiteral("How can I help you today?");

        QList<std::shared_ptr<Outcome>> outs;
        QList<SynthesisJob *> jobs;
        for (int i = 0; i < 4; ++i) {
            jobs.append(caching.synthesize(request(text), this));
            outs.append(follow(jobs.last()));
        }
        QTRY_COMPARE(inner.jobs.size(), 1);
        QCOMPARE(caching.inFlightCount(), 1);
        inner.jobs[0]->pushNext();
        QTRY_VERIFY(outs[0]->chunks.size() == 1 && outs[3]->chunks.size() == 1);

        // A late joiner gets the first chunk replayed, then the rest live.
        SynthesisJob *late = caching.synthesize(request(text), this);
        auto lateOut = follow(late);
        QTRY_COMPARE(lateOut->chunks.size(), 1);
        QCOMPARE(qobject_cast<TtsCacheJob *>(late)->source(), TtsCacheJob::Source::Shared);

        // One waiter cancelling does not stop the others.
        jobs[1]->cancel();
        inner.jobs[0]->playRest();
        for (int i : {0, 2, 3}) {
            QTRY_VERIFY(outs[i]->finished);
            QCOMPARE(outs[i]->audio(), inner.wholeAudio(text));
        }
        QTRY_VERIFY(lateOut->finished);
        QCOMPARE(lateOut->audio(), inner.wholeAudio(text));
        QTest::qWait(20);
        QCOMPARE(outs[1]->chunks.size(), 1); // nothing after its cancel
        QVERIFY(!outs[1]->finished);
        QCOMPARE(inner.calls.loadRelaxed(), 1);
        QVERIFY(!inner.jobs[0] || !inner.jobs[0]->cancelled);
        QCOMPARE(cache.stats().tenants.value("demo").coalesced, quint64(4));
        QTRY_COMPARE(cache.stats().redisWrites, quint64(1));
        QCOMPARE(caching.inFlightCount(), 0);
    }

    void lastWaiterCancellingCancelsTheSharedSynthesis()
    {
        CountingSynthesizer inner;
        inner.automatic = false;
        TtsCache cache;
        CachingSynthesizer caching(&inner, &cache);
        const QString text = QStringLiteral("Nobody will hear this.");
        SynthesisJob *a = caching.synthesize(request(text), this);
        SynthesisJob *b = caching.synthesize(request(text), this);
        QTRY_COMPARE(inner.jobs.size(), 1);
        QPointer<apex::test::CountingJob> fake = inner.jobs[0];
        a->cancel();
        QTest::qWait(10);
        QVERIFY(fake && !fake->cancelled);
        delete b; // deleting is cancelling too
        QTRY_VERIFY(!fake || fake->cancelled);
        QTRY_COMPARE(caching.inFlightCount(), 0);
        delete a;
        // The next request starts afresh.
        auto again = follow(caching.synthesize(request(text), this));
        QTRY_COMPARE(inner.jobs.size(), 2);
        inner.jobs[1]->playRest();
        QTRY_VERIFY(again->finished);
    }

    // --- tenants --------------------------------------------------------

    void tenantIsolation()
    {
        CountingSynthesizer inner;
        RedisClient redis(RedisClient::Settings{m_server.url()});
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache cache;
        cache.setRedisClient(&redis);
        CachingSynthesizer caching(&inner, &cache);
        const QString text = QStringLiteral("Your appointment is confirmed.");
        auto a = follow(caching.synthesize(request(text, "tenantA"), this));
        QTRY_VERIFY(a->finished);
        QTRY_COMPARE(cache.stats().redisWrites, quint64(1));
        const TtsCacheKey keyA = caching.keyFor(request(text, "tenantA"));
        const TtsCacheKey keyB = caching.keyFor(request(text, "tenantB"));
        QVERIFY(keyA.digestHex != keyB.digestHex);
        QVERIFY(keyA.redisKey.startsWith("apex:tenantA:tts:"));
        QVERIFY(keyB.redisKey.startsWith("apex:tenantB:tts:"));
        QVERIFY(redisHasKey(keyA.redisKey));
        QVERIFY(!redisHasKey(keyB.redisKey));
        QCOMPARE(redisCall(*m_admin, {"KEYS", "apex:tenantB:*"})->elements.size(), 0);

        cache.clearMemory(); // B must not find A's entry in either tier
        SynthesisJob *job = caching.synthesize(request(text, "tenantB"), this);
        auto b = follow(job);
        QTRY_VERIFY(b->finished);
        QCOMPARE(qobject_cast<TtsCacheJob *>(job)->source(), TtsCacheJob::Source::Synthesis);
        QCOMPARE(inner.calls.loadRelaxed(), 2);
        const TtsCacheStats stats = cache.stats();
        QCOMPARE(stats.tenants.value("tenantA").misses, quint64(1));
        QCOMPARE(stats.tenants.value("tenantB").misses, quint64(1));
        QCOMPARE(stats.tenants.value("tenantB").redisHits + stats.tenants.value("tenantB").memoryHits, quint64(0));
    }

    // --- a real synthesizer ---------------------------------------------

    void realEmbeddedSynthesizer()
    {
        EmbeddedSynthesizer embedded;
        TtsCache cache;
        CachingSynthesizer caching(&embedded, &cache);
        const SynthesisRequest req = request(QStringLiteral("Hello, thank you for calling."));
        auto first = follow(caching.synthesize(req, this));
        QTRY_VERIFY_WITH_TIMEOUT(first->ended(), 60000);
        QVERIFY2(first->finished, qPrintable(first->failure));
        QVERIFY(first->audio().size() > 4000); // half a second at 8 kHz
        auto second = follow(caching.synthesize(req, this));
        QTRY_VERIFY(second->finished);
        QCOMPARE(second->audio(), first->audio());
        QCOMPARE(cache.stats().tenants.value("demo").memoryHits, quint64(1));
        QCOMPARE(caching.keyFor(req).digestHex,
                 TtsCacheKey::make("demo", "embedded", "slt", "en", "Hello, thank you for calling.").digestHex);
    }

    // --- another thread -------------------------------------------------

    void lookupsFromAnotherThreadHopToTheClientThread()
    {
        CountingSynthesizer inner;
        RedisClient redis(RedisClient::Settings{m_server.url()});
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache cache;
        cache.setRedisClient(&redis);
        CachingSynthesizer caching(&inner, &cache);
        const SynthesisRequest req = request(QStringLiteral("Written here, read there."));
        auto first = follow(caching.synthesize(req, this));
        QTRY_VERIFY(first->finished);
        QTRY_COMPARE(cache.stats().redisWrites, quint64(1));
        cache.clearMemory();

        QThread worker;
        worker.start();
        QObject anchor;
        anchor.moveToThread(&worker);
        std::atomic<int> source{-1};
        QByteArray audio;
        std::atomic_bool done{false};
        QMetaObject::invokeMethod(&anchor, [&] {
            SynthesisJob *job = caching.synthesize(req, &anchor);
            QObject::connect(job, &SynthesisJob::audio, &anchor, [&](const QByteArray &a) { audio += a; });
            QObject::connect(job, &SynthesisJob::finished, &anchor, [&, job] {
                source = int(qobject_cast<TtsCacheJob *>(job)->source());
                done = true;
            });
        }, Qt::QueuedConnection);
        QTRY_VERIFY(done.load());
        QCOMPARE(source.load(), int(TtsCacheJob::Source::Redis));
        QCOMPARE(audio, first->audio());
        QMetaObject::invokeMethod(&anchor, [&] { qDeleteAll(anchor.children()); }, Qt::BlockingQueuedConnection);
        worker.quit();
        worker.wait();
    }

    // --- Redis failures -------------------------------------------------

    void redisKilledMidCallNeverFailsAJob()
    {
        CountingSynthesizer inner;
        inner.automatic = false;
        RedisClient::Settings settings{m_server.url()};
        settings.reconnectInitialMs = 20;
        settings.reconnectMaxMs = 200;
        RedisClient redis(settings);
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache cache;
        cache.setRedisClient(&redis);
        CachingSynthesizer caching(&inner, &cache);

        auto warm = follow(caching.synthesize(request("Already in memory."), this));
        QTRY_COMPARE(inner.jobs.size(), 1);
        inner.jobs[0]->playRest();
        QTRY_VERIFY(warm->finished);

        // A synthesis is streaming when Redis dies.
        auto live = follow(caching.synthesize(request("Speaking while Redis dies."), this));
        QTRY_COMPARE(inner.jobs.size(), 2);
        inner.jobs[1]->pushNext();
        m_server.kill();
        inner.jobs[1]->playRest();
        QTRY_VERIFY(live->ended());
        QVERIFY2(live->finished, qPrintable(live->failure));
        QTRY_VERIFY(!redis.isConnected());
        QVERIFY(!cache.isRedisAvailable());

        // While down: memory answers, misses synthesise; nothing waits on Redis.
        QElapsedTimer t;
        t.start();
        auto hit = follow(caching.synthesize(request("Already in memory."), this));
        QTRY_VERIFY(hit->finished);
        QVERIFY(t.elapsed() < 50);
        auto miss = follow(caching.synthesize(request("A new sentence while down."), this));
        QTRY_COMPARE(inner.jobs.size(), 3);
        inner.jobs[2]->playRest();
        QTRY_VERIFY(miss->ended());
        QVERIFY2(miss->finished, qPrintable(miss->failure));
        QVERIFY(cache.memory().contains(caching.keyFor(request("A new sentence while down.")).digestHex));
        const TtsCacheStats stats = cache.stats();
        QVERIFY(stats.redisWritesSkipped + stats.redisWriteErrors >= 1);
        QVERIFY(!stats.redisConnected);

        // Back up: the client reconnects by itself and write-backs land again.
        QVERIFY2(m_server.restart(), qPrintable(m_server.errorString()));
        QTRY_VERIFY_WITH_TIMEOUT(redis.isConnected(), 5000);
        QTRY_VERIFY(cache.isRedisAvailable());
        QTRY_VERIFY_WITH_TIMEOUT(m_admin->isConnected(), 5000);
        auto after = follow(caching.synthesize(request("Written after the restart."), this));
        QTRY_COMPARE(inner.jobs.size(), 4);
        inner.jobs[3]->playRest();
        QTRY_VERIFY(after->finished);
        QTRY_VERIFY(redisHasKey(caching.keyFor(request("Written after the restart.")).redisKey));
    }

    void hungRedisTimesOutToSynthesis()
    {
        // SIGSTOP: connected but silent, the worst case for a lookup.
        CountingSynthesizer inner;
        RedisClient redis(RedisClient::Settings{m_server.url()});
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache::Settings settings;
        settings.redisLookupTimeoutMs = 80;
        TtsCache cache(settings);
        cache.setRedisClient(&redis);
        CachingSynthesizer caching(&inner, &cache);
        const auto pid = redisCall(*m_admin, {"INFO", "server"})->string;
        const QByteArray pidLine = pid.mid(pid.indexOf("process_id:") + 11);
        const qint64 serverPid = pidLine.left(pidLine.indexOf('\r')).toLongLong();
        QVERIFY(serverPid > 0);
        ::kill(pid_t(serverPid), SIGSTOP);
        QElapsedTimer t;
        t.start();
        auto out = follow(caching.synthesize(request("Redis is frozen."), this));
        QTRY_VERIFY(out->ended());
        ::kill(pid_t(serverPid), SIGCONT);
        QVERIFY(out->finished);
        QVERIFY2(t.elapsed() < 1000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(cache.stats().tenants.value("demo").redisErrors, quint64(1));
    }

    // --- pre-warm -------------------------------------------------------

    void fixedPhrasesFromSystemPrompt()
    {
        const QString prompt = QStringLiteral("Be kind.\n\"Thank you for calling.\"\nSay \u201CGoodbye now.\u201D at the end.\n"
                                              "A stray \" quote\nand \"\" empty and \"...\" none.\nTwo: \"One.\" and \"Two.\"");
        QCOMPARE(Prewarmer::fixedPhrases(prompt),
                 (QStringList{QStringLiteral("Thank you for calling."), QStringLiteral("Goodbye now."), QStringLiteral("One."),
                              QStringLiteral("Two.")}));
    }

    void prewarmMakesTheCallAllHits()
    {
        ConfigError error;
        const auto config = EngineConfigLoader::loadFile(
            apex::test::sourceDir() + QStringLiteral("/resources/config/apex.json"), &error);
        QVERIFY2(config, qPrintable(error.message));
        const Tenant tenant = config->tenants.first();

        const QStringList phrases = Prewarmer::phrasesFor(tenant);
        QVERIFY(phrases.contains("Thank you for calling Sunrise Dental Clinic."));
        QVERIFY(phrases.contains("Is there anything else I can help you with?"));
        QVERIFY(phrases.contains("Sorry, I did not catch that."));
        QVERIFY(phrases.contains("Could you say it again?"));
        QCOMPARE(QStringList(phrases).removeDuplicates(), 0);

        CountingSynthesizer inner;
        inner.intervalMs = 1;
        RedisClient redis(RedisClient::Settings{m_server.url()});
        redis.start();
        QTRY_VERIFY(redis.isConnected());
        TtsCache cache;
        cache.setRedisClient(&redis);
        cache.configureTenants(config->tenants);
        CachingSynthesizer caching(&inner, &cache);

        Prewarmer warm(&caching, Prewarmer::Settings{1, 2});
        QSignalSpy progress(&warm, &Prewarmer::progress);
        QSignalSpy finished(&warm, &Prewarmer::finished);
        warm.start(tenant);
        QCOMPARE(progress.size(), 0);
        QVERIFY(finished.wait(20000));
        const auto stats = finished.first().first().value<Prewarmer::Stats>();
        QCOMPARE(stats.total, phrases.size());
        QCOMPARE(stats.synthesized, phrases.size());
        QCOMPARE(stats.failed, 0);
        QVERIFY(!stats.cancelled);
        QCOMPARE(progress.size(), phrases.size());
        QCOMPARE(progress.last().at(0).toInt(), phrases.size());
        QCOMPARE(inner.calls.loadRelaxed(), phrases.size());
        // finished() waits for Redis to acknowledge: every key is there now.
        QCOMPARE(cache.stats().redisWrites, quint64(phrases.size()));
        QCOMPARE(cache.stats().tenants.value("demo").lookups(), quint64(0)); // pre-warm is not a call

        // A call: greeting and every FAQ answer, cut as CallSession cuts them.
        QStringList texts{tenant.greeting};
        for (const FaqEntry &e : tenant.faq)
            texts.append(e.answer);
        int sentences = 0;
        for (const QString &text : texts) {
            SentenceSplitter splitter;
            QStringList parts;
            for (const QString &word : text.split(' ')) // streamed word by word, like an LLM
                parts += splitter.push(word + ' ');
            parts += splitter.flush();
            for (const QString &s : parts) {
                auto out = follow(caching.synthesize(request(s), this));
                QTRY_VERIFY(out->finished);
                ++sentences;
            }
        }
        const TtsCacheTenantStats call = cache.stats().tenants.value("demo");
        QCOMPARE(call.misses, quint64(0));
        QCOMPARE(call.memoryHits, quint64(sentences));
        QCOMPARE(inner.calls.loadRelaxed(), phrases.size());

        // Another engine node warming from the same Redis synthesises nothing.
        TtsCache second;
        second.setRedisClient(&redis);
        CachingSynthesizer secondCaching(&inner, &second);
        Prewarmer again(&secondCaching);
        QSignalSpy againFinished(&again, &Prewarmer::finished);
        again.start(tenant);
        QVERIFY(againFinished.wait(20000));
        QCOMPARE(again.stats().alreadyCached, phrases.size());
        QCOMPARE(inner.calls.loadRelaxed(), phrases.size());
        QCOMPARE(second.memory().entryCount(), phrases.size());
    }

    void prewarmCancel()
    {
        ConfigError error;
        const auto config = EngineConfigLoader::loadFile(
            apex::test::sourceDir() + QStringLiteral("/resources/config/apex.json"), &error);
        QVERIFY(config);
        CountingSynthesizer inner;
        inner.automatic = false;
        TtsCache cache;
        CachingSynthesizer caching(&inner, &cache);
        Prewarmer warm(&caching, Prewarmer::Settings{2, 0});
        QSignalSpy progress(&warm, &Prewarmer::progress);
        QSignalSpy finished(&warm, &Prewarmer::finished);
        warm.start(config->tenants.first());
        QTRY_COMPARE(inner.jobs.size(), 2); // at most maxConcurrent at once
        inner.jobs[0]->playRest();
        QTRY_COMPARE(progress.size(), 1);
        QTRY_COMPARE(inner.jobs.size(), 3);
        warm.cancel();
        QVERIFY(finished.wait(2000));
        const auto stats = finished.first().first().value<Prewarmer::Stats>();
        QVERIFY(stats.cancelled);
        QCOMPARE(stats.synthesized, 1);
        QTRY_VERIFY((!inner.jobs[1] || inner.jobs[1]->cancelled) && (!inner.jobs[2] || inner.jobs[2]->cancelled));
        QTest::qWait(50);
        QCOMPARE(inner.jobs.size(), 3); // nothing started after cancel()
        QCOMPARE(caching.inFlightCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestTtsCache)
#include "test_ttscache.moc"
