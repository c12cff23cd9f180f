// apex-bench-cache: what the TTS cache buys a call.
//  1. lookup -> first audio chunk through CachingSynthesizer for a memory hit
//     and for a Redis hit on loopback (p50/p99 over --lookups, monotonic clock);
//  2. the hit ratio of a scripted, FAQ-heavy call mix against the demo tenant,
//     cold and after pre-warm.
// Needs a redis-server: --redis-url, or one is started on a free loopback port.
// The inner synthesizer is an instant stand-in sized like real speech (8 kB/s),
// so the numbers are the cache's own cost, not flite's.

#include "redisserver.h"

#include "observability/clock.h"
#include "observability/logging.h"
#include "runtime/prewarmer.h"
#include "pipeline/sentencesplitter.h"
#include "store/redisclient.h"
#include "tenancy/engineconfig.h"
#include "ttscache/cachingsynthesizer.h"
#include "ttscache/ttscache.h"
#include "ttscache/ttscachejob.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QRandomGenerator>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

using namespace apex;

namespace {

// Emits the whole sentence on the next event-loop turn: roughly 80 ms of
// mu-law per character, as speech at 12 characters a second.
class InstantJob : public SynthesisJob
{
public:
    InstantJob(QByteArray audio, QObject *parent)
        : SynthesisJob(parent)
    {
        QTimer::singleShot(0, this, [this, audio] {
            if (m_cancelled)
                return;
            Q_EMIT this->audio(audio);
            Q_EMIT finished();
        });
    }
    void cancel() override { m_cancelled = true; }

private:
    bool m_cancelled = false;
};

class InstantSynthesizer : public SpeechSynthesizer
{
public:
    int calls = 0;
    QString name() const override { return QStringLiteral("embedded"); }
    bool supports(const SynthesisRequest &) const override { return true; }
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override
    {
        ++calls;
        QByteArray audio(int(request.text.size()) * 667, Qt::Uninitialized);
        for (qsizetype i = 0; i < audio.size(); ++i)
            audio[i] = char(0x55 ^ (i * 131));
        return new InstantJob(audio, parent);
    }
};

struct Timing
{
    std::vector<double> us;
    double quantile(double q)
    {
        if (us.empty())
            return 0;
        std::sort(us.begin(), us.end());
        return us[std::min(us.size() - 1, size_t(q * double(us.size())))];
    }
};

// One sentence through the synthesizer; returns ns from synthesize() to the
// first chunk, and where the audio came from.
qint64 speak(CachingSynthesizer &synth, const SynthesisRequest &request, TtsCacheJob::Source *source = nullptr)
{
    QEventLoop loop;
    QObject owner;
    qint64 firstNs = -1;
    const qint64 start = monotonicNowNs();
    SynthesisJob *job = synth.synthesize(request, &owner);
    QObject::connect(job, &SynthesisJob::audio, &owner, [&](const QByteArray &) {
        if (firstNs < 0)
            firstNs = monotonicNowNs() - start;
    });
    QObject::connect(job, &SynthesisJob::finished, &loop, &QEventLoop::quit);
    QObject::connect(job, &SynthesisJob::failed, &loop, &QEventLoop::quit);
    loop.exec();
    if (source)
        *source = qobject_cast<TtsCacheJob *>(job) ? qobject_cast<TtsCacheJob *>(job)->source()
                                                  : TtsCacheJob::Source::Synthesis;
    return firstNs;
}

bool flush(RedisClient &client)
{
    QEventLoop loop;
    bool ok = false;
    client.command({"FLUSHDB"}, [&](const RedisReply &r) {
        ok = !r.isError();
        loop.quit();
    });
    loop.exec();
    return ok;
}

QStringList sentencesOf(const QString &text)
{
    SentenceSplitter splitter;
    QStringList out = splitter.push(text);
    out += splitter.flush();
    return out;
}

struct MixResult
{
    TtsCacheTenantStats stats;
    int syntheses = 0;
    int sentences = 0;
    int dynamicSentences = 0;
    int fixedHits = 0;
    int dynamicHits = 0;
    Timing firstChunk;
    qint64 prewarmMs = 0;
};

MixResult runCallMix(const Tenant &tenant, RedisClient &redis, int calls, quint32 seed, bool prewarm)
{
    MixResult result;
    flush(redis);
    InstantSynthesizer inner;
    TtsCache cache;
    cache.setRedisClient(&redis);
    cache.setTenantTtlSeconds(tenant.id, tenant.ttsCacheTtlSeconds);
    CachingSynthesizer synth(&inner, &cache);
    if (prewarm) {
        Prewarmer warm(&synth, Prewarmer::Settings{1, 0});
        QEventLoop loop;
        QObject::connect(&warm, &Prewarmer::finished, &loop, &QEventLoop::quit);
        warm.start(tenant);
        loop.exec();
        result.prewarmMs = warm.stats().elapsedMs;
    }
    const int synthesesBefore = inner.calls;

    static const QStringList days{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    static const QStringList dentists{"Dr. Mehta", "Dr. Silva", "Dr. Chen", "Dr. Novak"};
    QRandomGenerator rng(seed);
    for (int call = 0; call < calls; ++call) {
        QStringList script{tenant.greeting};
        const int faqCount = 2 + int(rng.bounded(2));
        for (int i = 0; i < faqCount; ++i)
            script.append(tenant.faq.at(int(rng.bounded(qsizetype(tenant.faq.size())))).answer);
        // What an LLM says around the FAQ: mostly unique, so honest misses.
        const int hour = 9 + int(rng.bounded(9));
        const QString minutes = rng.bounded(2) ? QStringLiteral("thirty") : QString();
        script.append(QStringLiteral("Your appointment is on %1 at %2%3.")
                          .arg(days.at(int(rng.bounded(qsizetype(days.size())))))
                          .arg(hour > 12 ? hour - 12 : hour)
                          .arg(minutes.isEmpty() ? QString() : QStringLiteral(" ") + minutes));
        script.append(QStringLiteral("You will see %1.").arg(dentists.at(int(rng.bounded(qsizetype(dentists.size()))))));
        script.append(QStringLiteral("Your reference number is %1.").arg(1000 + rng.bounded(9000)));
        script.append(tenant.fallbackLine); // one misunderstanding per call
        for (qsizetype t = 0; t < script.size(); ++t) {
            const bool dynamic = t >= script.size() - 4 && t < script.size() - 1;
            for (const QString &sentence : sentencesOf(script.at(t))) {
                TtsCacheJob::Source source;
                const qint64 ns = speak(synth, SynthesisRequest{sentence, tenant.voice, tenant.language, tenant.id}, &source);
                const bool hit = source == TtsCacheJob::Source::Memory || source == TtsCacheJob::Source::Redis;
                result.firstChunk.us.push_back(double(ns) / 1e3);
                ++result.sentences;
                result.dynamicSentences += dynamic;
                result.dynamicHits += dynamic && hit;
                result.fixedHits += !dynamic && hit;
            }
        }
    }
    result.syntheses = inner.calls - synthesesBefore;
    result.stats = cache.stats().tenants.value(tenant.id);
    return result;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    log::initialize(spdlog::level::warn);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("TTS cache benchmark"));
    parser.addHelpOption();
    QCommandLineOption urlOption("redis-url", "Redis to use (default: start a redis-server on a free port).", "url");
    QCommandLineOption lookupsOption("lookups", "Timed lookups per tier (default 2000).", "n", "2000");
    QCommandLineOption callsOption("calls", "Scripted calls in the mix (default 100).", "n", "100");
    QCommandLineOption seedOption("seed", "Seed of the call mix (default 42).", "n", "42");
    QCommandLineOption configOption("config", "Engine config with the demo tenant.", "path",
                                    QStringLiteral(APEX_SOURCE_DIR "/resources/config/apex.json"));
    parser.addOptions({urlOption, lookupsOption, callsOption, seedOption, configOption});
    parser.process(app);
    const int lookups = std::max(1, parser.value(lookupsOption).toInt());
    const int calls = std::max(1, parser.value(callsOption).toInt());
    const quint32 seed = parser.value(seedOption).toUInt();

    ConfigError error;
    const auto config = EngineConfigLoader::loadFile(parser.value(configOption), &error);
    if (!config || config->tenants.isEmpty()) {
        std::fprintf(stderr, "cannot load %s: %s\n", qPrintable(parser.value(configOption)), qPrintable(error.message));
        return 2;
    }
    Tenant tenant = config->tenants.first();
    for (const Tenant &t : config->tenants)
        if (t.id == QLatin1String("demo"))
            tenant = t;

    std::unique_ptr<test::RedisServer> server;
    QString url = parser.value(urlOption);
    if (url.isEmpty()) {
        server = std::make_unique<test::RedisServer>();
        if (!server->start()) {
            std::fprintf(stderr, "redis-server: %s\n", qPrintable(server->errorString()));
            return 2;
        }
        url = server->url();
    }
    RedisClient redis(RedisClient::Settings{url});
    redis.start();
    {
        QEventLoop loop;
        QObject::connect(&redis, &RedisClient::stateChanged, &loop, [&](RedisClient::State s) {
            if (s == RedisClient::State::Connected)
                loop.quit();
        });
        QTimer::singleShot(5000, &loop, &QEventLoop::quit);
        if (!redis.isConnected())
            loop.exec();
        if (!redis.isConnected()) {
            std::fprintf(stderr, "cannot connect to Redis at %s\n", qPrintable(url));
            return 2;
        }
    }

    // --- 1. lookup -> first chunk ---------------------------------------
    flush(redis);
    InstantSynthesizer inner;
    TtsCache cache;
    cache.setRedisClient(&redis);
    CachingSynthesizer synth(&inner, &cache);
    QStringList sentences;
    for (const FaqEntry &e : tenant.faq)
        sentences += sentencesOf(e.answer);
    for (const QString &s : std::as_const(sentences))
        speak(synth, SynthesisRequest{s, tenant.voice, tenant.language, tenant.id}); // misses: fill both tiers
    {
        QEventLoop loop;
        cache.whenWritesFlushed(&loop, [&] { loop.quit(); });
        loop.exec();
    }
    qint64 valueBytes = 0;
    for (const QString &s : std::as_const(sentences))
        valueBytes += s.size() * 667;

    Timing memory, redisTier;
    for (int i = 0; i < lookups; ++i) {
        const QString &s = sentences.at(i % sentences.size());
        memory.us.push_back(double(speak(synth, SynthesisRequest{s, tenant.voice, tenant.language, tenant.id})) / 1e3);
    }
    for (int i = 0; i < lookups; ++i) {
        const QString &s = sentences.at(i % sentences.size());
        cache.clearMemory(); // so every lookup goes to Redis
        redisTier.us.push_back(double(speak(synth, SynthesisRequest{s, tenant.voice, tenant.language, tenant.id})) / 1e3);
    }
    const TtsCacheTenantStats tierStats = cache.stats().tenants.value(tenant.id);

    std::printf("\nTTS cache: lookup -> first audio chunk (CachingSynthesizer, %d lookups per tier,\n"
                "%lld sentences of the demo FAQ, mean value %lld bytes; Redis %s)\n\n",
                lookups, qlonglong(sentences.size()), qlonglong(valueBytes / std::max<qsizetype>(1, sentences.size())),
                server ? "started on loopback" : qPrintable(url));
    std::printf("| tier   | p50 (us) | p99 (us) | max (us) | hits counted |\n");
    std::printf("|--------|---------:|---------:|---------:|-------------:|\n");
    std::printf("| memory | %8.1f | %8.1f | %8.1f | %12llu |\n", memory.quantile(0.5), memory.quantile(0.99),
                memory.quantile(1.0), qulonglong(tierStats.memoryHits));
    std::printf("| redis  | %8.1f | %8.1f | %8.1f | %12llu |\n", redisTier.quantile(0.5), redisTier.quantile(0.99),
                redisTier.quantile(1.0), qulonglong(tierStats.redisHits));
    std::printf("\n(cache's own lookup histogram: memory p50 %.0f us p99 %.0f us; redis p50 %.0f us p99 %.0f us;"
                " bucket upper bounds)\n",
                tierStats.memoryHitLatency.quantileUs(0.5), tierStats.memoryHitLatency.quantileUs(0.99),
                tierStats.redisHitLatency.quantileUs(0.5), tierStats.redisHitLatency.quantileUs(0.99));

    // --- 2. call mix ----------------------------------------------------
    MixResult cold = runCallMix(tenant, redis, calls, seed, false);
    MixResult warm = runCallMix(tenant, redis, calls, seed, true);
    std::printf("\nCall mix: %d calls on tenant '%s' (seed %u): greeting + 2-3 FAQ answers + 3 dynamic\n"
                "sentences (appointment day/time, dentist, reference number) + the fallback line per call\n\n",
                calls, qPrintable(tenant.id), seed);
    std::printf("| run        | sentences | memory hits | redis hits | misses | hit ratio | fixed-text hits | dynamic hits | p50 first chunk (us) | p99 (us) |\n");
    std::printf("|------------|----------:|------------:|-----------:|-------:|----------:|----------------:|-------------:|---------------------:|---------:|\n");
    for (auto [name, r] : {std::pair<const char *, MixResult *>{"cold", &cold}, {"pre-warmed", &warm}}) {
        const int fixed = r->sentences - r->dynamicSentences;
        std::printf("| %-10s | %9d | %11llu | %10llu | %6llu | %8.1f%% | %4d/%4d %5.1f%% | %3d/%3d %5.1f%% | %20.1f | %8.1f |\n",
                    name, r->sentences, qulonglong(r->stats.memoryHits), qulonglong(r->stats.redisHits),
                    qulonglong(r->stats.misses), 100.0 * r->stats.hitRatio(), r->fixedHits, fixed,
                    100.0 * r->fixedHits / std::max(1, fixed), r->dynamicHits, r->dynamicSentences,
                    100.0 * r->dynamicHits / std::max(1, r->dynamicSentences), r->firstChunk.quantile(0.5),
                    r->firstChunk.quantile(0.99));
    }
    std::printf("\nSyntheses: %d cold, %d after pre-warm (+%lld ms of pre-warm). Dynamic sentences repeat\n"
                "across calls (4 dentists, 6 days x 18 times), so some of them hit too; reference numbers never do.\n"
                "First-chunk times use an instant stand-in synthesizer: a real miss costs the provider's latency.\n",
                cold.syntheses, warm.syntheses, qlonglong(warm.prewarmMs));
    return 0;
}
