#include "faultmatrix.h"

#include "fakeazure.h"
#include "fakedeepgram.h"
#include "fakegroq.h"
#include "redisserver.h"

#include "host/callmonitor.h"
#include "host/enginehost.h"
#include "tts/embedded/embeddedsynthesizer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSet>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <climits>
#include <csignal>
#include <cmath>

namespace apex::test {

namespace {

const QStringList kQuestions{QStringLiteral("What are your opening hours?"), QStringLiteral("Do you have parking?"),
                             QStringLiteral("How much does a cleaning cost?")};
// What the fake Deepgram "hears": the script is shared by every connection in
// the order utterances end, so any question may land on any turn. All three
// are in the FAQ, so the fallback responder can answer whichever it gets.
const QStringList kTranscripts{QStringLiteral("what are your opening hours"), QStringLiteral("do you have parking"),
                               QStringLiteral("how much does a cleaning cost")};
constexpr char kLlmMarker[] = "Reply "; // every primary LLM answer starts so; the FAQ's never do

// Simulated callers on one thread of their own; reports are read through OnThread::with.
struct CallerPool
{
    QObject owner;
    QList<CallReport> reports;

    void place(const SimulatedCallerOptions &options)
    {
        auto *caller = new SimulatedCaller(options, &owner);
        QObject::connect(caller, &SimulatedCaller::finished, &owner, [this, caller](const CallReport &report) {
            reports.append(report);
            caller->deleteLater();
        });
        caller->start();
    }
};

QString breakerName(Governed provider)
{
    switch (provider) {
    case Governed::Llm: return QStringLiteral("llm");
    case Governed::Tts: return QStringLiteral("azure-tts");
    case Governed::Stt: return QStringLiteral("deepgram");
    case Governed::Redis: return QStringLiteral("redis");
    }
    return {};
}

int thresholdOf(const FaultSpec &spec, const GovernanceSettings &g)
{
    if (spec.unauthorized)
        return 1;
    switch (spec.provider) {
    case Governed::Llm: return g.llmFailureThreshold;
    case Governed::Tts: return g.azureFailureThreshold;
    case Governed::Stt: return g.deepgramFailureThreshold;
    case Governed::Redis: return 5;
    }
    return 5;
}

// What the failing provider itself counted: HTTP requests, or WebSocket upgrade attempts.
int providerRequests(const FaultSpec &spec, CloudFakes &fakes)
{
    switch (spec.provider) {
    case Governed::Llm: return fakes.groq.with([](FakeGroq &f) { return f.requestCount(); });
    case Governed::Tts: return fakes.azure.with([](FakeAzure &f) { return f.requestCount(); });
    case Governed::Stt: return fakes.deepgram.with([](FakeDeepgram &f) { return f.handshakeCount(); });
    case Governed::Redis: return 0;
    }
    return 0;
}

QJsonObject breakerIn(const QJsonObject &stats, const QString &provider)
{
    const QJsonArray breakers = stats.value(QLatin1String("governance")).toObject().value(QLatin1String("breakers")).toArray();
    for (const QJsonValue &b : breakers) {
        if (b.toObject().value(QLatin1String("provider")).toString() == provider)
            return b.toObject();
    }
    return {};
}

QJsonObject statsNow(EngineHost &host)
{
    std::optional<QJsonObject> out;
    host.fetchStats([&out](const QJsonObject &stats) { out = stats; });
    if (!QTest::qWaitFor([&out] { return out.has_value(); }, 5000))
        return {};
    return *out;
}

// One RESP command to the test's redis-server, blocking (never while a
// caller's timing depends on this thread: callers have their own).
QByteArray redisCommand(quint16 port, const QList<QByteArray> &args)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(2000))
        return {};
    QByteArray command = "*" + QByteArray::number(args.size()) + "\r\n";
    for (const QByteArray &a : args)
        command += "$" + QByteArray::number(a.size()) + "\r\n" + a + "\r\n";
    socket.write(command);
    socket.waitForBytesWritten(2000);
    QByteArray reply;
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 3000) {
        if (!socket.waitForReadyRead(500))
            continue;
        reply += socket.readAll();
        const qsizetype eol = reply.indexOf("\r\n");
        if (eol < 0)
            continue;
        if (reply.startsWith('$')) {
            const qsizetype length = reply.mid(1, eol - 1).toLongLong();
            if (reply.size() >= eol + 2 + length + 2)
                return reply.mid(eol + 2, length);
        } else {
            return reply.left(eol);
        }
    }
    return reply;
}

qint64 redisPid(quint16 port)
{
    const QByteArray info = redisCommand(port, {"INFO", "server"});
    const QRegularExpression re(QStringLiteral("process_id:(\\d+)"));
    const auto m = re.match(QString::fromLatin1(info));
    return m.hasMatch() ? m.captured(1).toLongLong() : -1;
}

int redisKeys(quint16 port)
{
    const QByteArray reply = redisCommand(port, {"DBSIZE"});
    return reply.startsWith(':') ? reply.mid(1).toInt() : -1;
}

SimulatedCallerOptions callerOptions(quint16 enginePort, int utterances)
{
    SimulatedCallerOptions o;
    o.port = enginePort;
    o.tenant = QStringLiteral("faults");
    for (int i = 0; i < utterances; ++i)
        o.utterances << FaultMatrix::speech(kQuestions.at(i % kQuestions.size()));
    return o;
}

double percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return -1;
    std::sort(values.begin(), values.end());
    const qsizetype index = std::clamp<qsizetype>(qsizetype(std::ceil(p * double(values.size()))) - 1, 0, values.size() - 1);
    return values.at(index);
}

QString outDir()
{
    return QStringLiteral(APEX_FAULTS_OUT_DIR "/fault-matrix");
}

// Groups in the order the README's table lists them.
const QStringList kGroups{QStringLiteral("llm-stream"), QStringLiteral("llm-http"), QStringLiteral("tts"), QStringLiteral("stt-silent"),
                          QStringLiteral("stt-stream"), QStringLiteral("redis")};

} // namespace

// --- CloudFakes ------------------------------------------------------------

CloudFakes::CloudFakes()
{
    groqBaseUrl = groq.with([](FakeGroq &f) { return f.start() ? f.baseUrl() : QString(); });
    azureUrl = azure.with([](FakeAzure &f) { return f.listen() ? f.url().toString() : QString(); });
    deepgramUrl = deepgram.with([](FakeDeepgram &f) { return f.listen() ? f.url().toString() : QString(); });
}

CloudFakes::~CloudFakes() = default;

void CloudFakes::setHealthy()
{
    groq.with([](FakeGroq &f) {
        FakeGroq::Script s;
        s.timeToFirstTokenMs = 150;
        s.tokensPerSecond = 100;
        auto counter = std::make_shared<std::atomic<int>>(0);
        s.replyFor = [counter](const FakeGroqRequest &) {
            return QStringLiteral("%1%2 is here. We can help with that.").arg(QLatin1String(kLlmMarker)).arg(++*counter);
        };
        f.setScript(s);
    });
    azure.with([](FakeAzure &f) {
        FakeAzure::Options o;
        o.firstByteLatencyMs = 150;
        f.setOptions(o);
        f.setFaults({});
    });
    deepgram.with([](FakeDeepgram &f) {
        f.setOptions({});
        f.setFaults({});
        // Enough for every utterance of the row; what is left over is never asked for.
        while (f.transcriptsLeft() < 60)
            for (const QString &t : kTranscripts)
                f.addTranscript(t);
    });
}

// --- the rows --------------------------------------------------------------

QList<FaultSpec> FaultMatrix::all()
{
    QList<FaultSpec> specs;
    auto groqFault = [](std::function<void(FakeGroq::Script &)> change) {
        return [change](CloudFakes &f) { f.groq.with([&](FakeGroq &g) {
            FakeGroq::Script s = g.script();
            change(s);
            g.setScript(s);
        }); };
    };
    auto azureFault = [](std::function<void(FakeAzure::Options &, FakeAzure::Faults &)> change) {
        return [change](CloudFakes &f) { f.azure.with([&](FakeAzure &a) {
            FakeAzure::Options o = a.options();
            FakeAzure::Faults x = a.faults();
            change(o, x);
            a.setOptions(o);
            a.setFaults(x);
        }); };
    };
    auto deepgramFault = [](std::function<void(FakeDeepgram::Options &, FakeDeepgram::Faults &)> change) {
        return [change](CloudFakes &f) { f.deepgram.with([&](FakeDeepgram &d) {
            FakeDeepgram::Options o = d.options();
            FakeDeepgram::Faults x = d.faults();
            change(o, x);
            d.setOptions(o);
            d.setFaults(x);
        }); };
    };

    QString group = QStringLiteral("llm-stream");
    {
        FaultSpec s{QStringLiteral("llm-stall-after-3-tokens"), group, QStringLiteral("LLM stall after 3 tokens"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) { x.fault = FakeGroq::Fault::StallAfterTokens; x.faultAfterTokens = 3; });
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("llm-stall-before-headers"), group, QStringLiteral("LLM stall before headers"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) { x.fault = FakeGroq::Fault::StallBeforeHeaders; });
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("llm-first-token-2s"), group, QStringLiteral("LLM first token after 2 s"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) { x.timeToFirstTokenMs = 2000; });
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("llm-early-close"), group, QStringLiteral("LLM early close mid-stream"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) { x.fault = FakeGroq::Fault::CloseAfterTokens; x.faultAfterTokens = 3; });
        specs << s;
    }
    group = QStringLiteral("llm-http");
    {
        FaultSpec s{QStringLiteral("llm-429-storm"), group, QStringLiteral("LLM 429 storm (retry-after 2)"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) {
            x.fault = FakeGroq::Fault::RateLimited;
            x.faultTimes = INT_MAX;
            x.retryAfter = "2";
        });
        s.attemptsPerAdmission = 2; // the client retries a 429 once when retry-after fits its deadline
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("llm-429-30pct"), group, QStringLiteral("LLM 429 on 30 % of requests"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) {
            x.fault = FakeGroq::Fault::RateLimited;
            x.retryAfter = "1";
            // Deterministic: 3 of every 10 requests, never more than one in a row.
            x.faultWhen = [](int i) { return (i * 7 + 3) % 10 < 3; };
        });
        s.attemptsPerAdmission = 2;
        s.alwaysFails = false;
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("llm-500"), group, QStringLiteral("LLM 500s"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) { x.fault = FakeGroq::Fault::ServerError; x.faultTimes = INT_MAX; });
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("llm-401"), group, QStringLiteral("LLM 401 (rejected key)"), Governed::Llm};
        s.inject = groqFault([](FakeGroq::Script &x) { x.fault = FakeGroq::Fault::Unauthorized; x.faultTimes = INT_MAX; });
        s.unauthorized = true;
        specs << s;
    }
    // Azure. A reply has up to two sentences in flight per call.
    group = QStringLiteral("tts");
    {
        FaultSpec s{QStringLiteral("tts-first-byte-3s"), group, QStringLiteral("Azure first byte after 3 s"), Governed::Tts};
        s.inject = azureFault([](FakeAzure::Options &o, FakeAzure::Faults &) { o.firstByteLatencyMs = 3000; });
        s.inFlightPerCall = 2;
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("tts-stall-mid-sentence"), group, QStringLiteral("Azure stall mid-sentence"), Governed::Tts};
        s.inject = azureFault([](FakeAzure::Options &o, FakeAzure::Faults &x) {
            o.chunkBytes = 800;        // streamed, so the first 300 ms of audio reach the engine
            x.stallAfterBytes = 2400;  // then nothing on an open socket
        });
        s.inFlightPerCall = 2;
        specs << s;
    }
    for (const int status : {500, 429, 401}) {
        FaultSpec s{QStringLiteral("tts-%1").arg(status), group, QStringLiteral("Azure %1").arg(status), Governed::Tts};
        s.inject = azureFault([status](FakeAzure::Options &, FakeAzure::Faults &x) { x.status = status; });
        s.inFlightPerCall = 2;
        s.unauthorized = status == 401;
        specs << s;
    }
    // Deepgram: what leaves a call without an ear, then a flaky stream.
    group = QStringLiteral("stt-silent");
    {
        FaultSpec s{QStringLiteral("stt-deaf"), group, QStringLiteral("Deepgram accepts, never answers"), Governed::Stt};
        s.inject = deepgramFault([](FakeDeepgram::Options &, FakeDeepgram::Faults &x) { x.mute = true; });
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("stt-refuse-503"), group, QStringLiteral("Deepgram refuses handshake 503"), Governed::Stt};
        s.inject = deepgramFault([](FakeDeepgram::Options &, FakeDeepgram::Faults &x) { x.refuseHandshakeStatus = 503; });
        s.attemptsPerAdmission = 4; // the first connection and three reconnects
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("stt-refuse-401"), group, QStringLiteral("Deepgram refuses handshake 401"), Governed::Stt};
        s.inject = deepgramFault([](FakeDeepgram::Options &, FakeDeepgram::Faults &x) { x.refuseHandshakeStatus = 401; });
        s.unauthorized = true;
        specs << s;
    }
    group = QStringLiteral("stt-stream");
    {
        FaultSpec s{QStringLiteral("stt-drop-3s"), group, QStringLiteral("Deepgram drops 3 s into every connection"), Governed::Stt};
        s.inject = deepgramFault([](FakeDeepgram::Options &, FakeDeepgram::Faults &x) {
            x.dropAfterMs = 3000;
            x.dropConnections = INT_MAX; // every connection while the fault lasts, reconnects too
        });
        s.attemptsPerAdmission = 4;
        s.alwaysFails = false; // each reconnect works for 3 s: the client is meant to ride it out
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("stt-close-1011"), group, QStringLiteral("Deepgram closes 1011 3 s into every connection"), Governed::Stt};
        s.inject = deepgramFault([](FakeDeepgram::Options &, FakeDeepgram::Faults &x) {
            x.closeAfterMs = 3000;
            x.closeCode = 1011;
            x.dropConnections = INT_MAX;
        });
        s.attemptsPerAdmission = 4;
        s.alwaysFails = false;
        specs << s;
    }
    {
        // The server gives out after the same 3 s of audio on every connection,
        // the replayed audio included: a reconnect can never get past it.
        FaultSpec s{QStringLiteral("stt-drop-after-3s-audio"), group, QStringLiteral("Deepgram drops after 3 s of audio (replay included)"),
                    Governed::Stt};
        s.inject = deepgramFault([](FakeDeepgram::Options &, FakeDeepgram::Faults &x) {
            x.dropAfterAudioMs = 3000;
            x.dropConnections = INT_MAX;
        });
        s.attemptsPerAdmission = 4;
        s.alwaysFails = false;
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("stt-no-speech-final"), group, QStringLiteral("Deepgram finals without speech_final"), Governed::Stt};
        s.inject = deepgramFault([](FakeDeepgram::Options &o, FakeDeepgram::Faults &) { o.sendSpeechFinal = false; });
        s.alwaysFails = false; // turns end by UtteranceEnd: slower, not failing
        specs << s;
    }
    group = QStringLiteral("redis");
    {
        FaultSpec s{QStringLiteral("redis-kill-restart"), group, QStringLiteral("Redis killed, restarted 5 s later"), Governed::Redis};
        s.redis = FaultSpec::RedisFault::KillAndRestart;
        s.alwaysFails = false;
        specs << s;
    }
    {
        FaultSpec s{QStringLiteral("redis-hang-10s"), group, QStringLiteral("Redis hung (SIGSTOP) 10 s"), Governed::Redis};
        s.redis = FaultSpec::RedisFault::Hang;
        s.alwaysFails = false;
        specs << s;
    }
    return specs;
}

std::optional<FaultSpec> FaultMatrix::find(const QString &id)
{
    for (const FaultSpec &s : all())
        if (s.id == id)
            return s;
    return std::nullopt;
}

Tenant FaultMatrix::testTenant()
{
    Tenant t;
    t.id = QStringLiteral("faults");
    t.name = QStringLiteral("Sunrise Dental Clinic");
    t.voice = QStringLiteral("slt");
    t.endpointingMs = 250;
    // One short sentence: five greetings a row, and one TTS admission each.
    t.greeting = QStringLiteral("Thank you for calling Sunrise Dental.");
    t.systemPrompt = QStringLiteral("You are the receptionist of Sunrise Dental Clinic. Answer in one short sentence.");
    // Short answers keep the matrix quick; the questions and keywords are the demo tenant's.
    t.faq = {
        {QStringLiteral("What are your opening hours?"), QStringLiteral("We open at nine and close at six."),
         {QStringLiteral("open"), QStringLiteral("hours"), QStringLiteral("close"), QStringLiteral("time")}},
        {QStringLiteral("Do you have parking?"), QStringLiteral("Yes, there is free parking."),
         {QStringLiteral("park"), QStringLiteral("parking"), QStringLiteral("car")}},
        {QStringLiteral("How much does a cleaning cost?"), QStringLiteral("A cleaning costs sixty dollars."),
         {QStringLiteral("price"), QStringLiteral("cost"), QStringLiteral("cleaning"), QStringLiteral("how much")}},
    };
    return t;
}

QByteArray FaultMatrix::speech(const QString &text)
{
    static QMutex mutex;
    static QHash<QString, QByteArray> cache;
    const QMutexLocker lock(&mutex);
    auto it = cache.find(text);
    if (it == cache.end())
        it = cache.insert(text, EmbeddedSynthesizer::synthesizeBlocking(SynthesisRequest{text, QStringLiteral("rms"), QStringLiteral("en")}));
    return *it;
}

// --- one row ---------------------------------------------------------------

FaultResult FaultMatrix::run(const FaultSpec &spec)
{
    FaultResult r;
    r.label = spec.label;
    const Tenant tenant = testTenant();
    const QString breaker = breakerName(spec.provider);

    std::unique_ptr<RedisServer> redis;
    if (spec.redis != FaultSpec::RedisFault::None) {
        redis = std::make_unique<RedisServer>();
        if (!redis->start()) {
            r.problems << QStringLiteral("redis-server: %1").arg(redis->errorString());
            return r;
        }
    }
    qint64 stoppedPid = -1;
    // A stopped redis-server would hold its destructor (SIGTERM waits for SIGCONT).
    const auto continueRedis = qScopeGuard([&stoppedPid] {
        if (stoppedPid > 0)
            ::kill(pid_t(stoppedPid), SIGCONT);
    });

    CloudFakes fakes;
    if (fakes.groqBaseUrl.isEmpty() || fakes.azureUrl.isEmpty() || fakes.deepgramUrl.isEmpty()) {
        r.problems << QStringLiteral("a fake could not listen");
        return r;
    }
    fakes.setHealthy();

    ConfigError configError;
    auto loaded = EngineConfigLoader::loadFile(QStringLiteral(APEX_RESOURCES_DIR "/config/apex.json"), &configError);
    if (!loaded) {
        r.problems << configError.message;
        return r;
    }
    EngineConfig config = *loaded;
    config.listen = QStringLiteral("127.0.0.1:0");
    config.prewarmAtStart = false; // every provider request below comes from a call
    config.tenants = {tenant};
    config.defaultTenantId = tenant.id;
    config.governance.breakerCoolDownMs = kCoolDownMs; // thresholds stay the defaults
    ProviderConfig &p = config.providers;
    p.deepgramApiKey = QStringLiteral("test-key");
    p.deepgramUrl = fakes.deepgramUrl;
    p.llmApiKey = QStringLiteral("gsk_test_0123456789abcdef");
    p.llmBaseUrl = fakes.groqBaseUrl;
    p.azureSpeechKey = QStringLiteral("test-key");
    p.azureTtsUrl = fakes.azureUrl;
    if (redis)
        p.redisUrl = redis->url();

    EngineHost host(config);
    QString startError;
    if (!host.start(&startError)) {
        r.problems << QStringLiteral("engine: %1").arg(startError);
        return r;
    }
    OnThread<CallerPool> callers(QStringLiteral("callers"));
    const int threshold = thresholdOf(spec, config.governance);
    const int stragglers = kCalls * spec.inFlightPerCall - 1;
    const int a = spec.attemptsPerAdmission;

    // Watch the breaker from outside, as an operator's /stats scrape would:
    // the provider's own counter at the first sight of it open.
    QElapsedTimer faultClock;
    qint64 firstOpenMs = -1;
    bool polling = false;
    auto observe = [&](const QJsonObject &stats) {
        const QJsonObject b = breakerIn(stats, breaker);
        if (b.isEmpty())
            return;
        r.breakerExists = true;
        r.timesOpened = std::max(r.timesOpened, b.value(QLatin1String("timesOpened")).toInt());
        if (b.value(QLatin1String("state")).toString() != QLatin1String("closed") && firstOpenMs < 0 && faultClock.isValid()) {
            firstOpenMs = faultClock.elapsed();
            r.opened = true;
            r.requestsAtFirstOpen = providerRequests(spec, fakes);
        }
    };
    QTimer poll;
    poll.setInterval(100);
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (polling)
            return;
        polling = true;
        host.fetchStats([&](const QJsonObject &stats) {
            polling = false;
            observe(stats);
        });
    });

    // --- the fault, five calls of three turns --------------------------------
    r.requestsAtInject = providerRequests(spec, fakes);
    if (spec.inject)
        spec.inject(fakes);
    faultClock.start();
    poll.start();
    for (int i = 0; i < kCalls; ++i) {
        const SimulatedCallerOptions options = callerOptions(host.port(), 3);
        callers.with([&](CallerPool &pool) { pool.place(options); });
        QTest::qWait(150); // concurrent, not in lockstep
    }
    int redisStep = 0;
    auto reports = [&] { return callers.with([](CallerPool &pool) { return pool.reports; }); };
    const bool done = QTest::qWaitFor([&] {
        if (redis && spec.redis == FaultSpec::RedisFault::KillAndRestart) {
            if (redisStep == 0 && faultClock.elapsed() > 4000) {
                redis->kill();
                redisStep = 1;
            } else if (redisStep == 1 && faultClock.elapsed() > 9000) {
                if (!redis->restart())
                    r.problems << QStringLiteral("redis-server did not restart: %1").arg(redis->errorString());
                redisStep = 2;
            }
        } else if (redis && spec.redis == FaultSpec::RedisFault::Hang) {
            if (redisStep == 0 && faultClock.elapsed() > 4000) {
                stoppedPid = redisPid(redis->port());
                if (stoppedPid <= 0 || ::kill(pid_t(stoppedPid), SIGSTOP) != 0)
                    r.problems << QStringLiteral("cannot SIGSTOP redis-server (pid %1)").arg(stoppedPid);
                redisStep = 1;
            } else if (redisStep == 1 && faultClock.elapsed() > 14000) {
                ::kill(pid_t(stoppedPid), SIGCONT);
                stoppedPid = -1;
                redisStep = 2;
            }
        }
        return callers.with([](CallerPool &pool) { return pool.reports.size(); }) >= kCalls;
    }, 180000);
    if (!done)
        r.problems << QStringLiteral("(a) the calls did not all finish within 180 s");
    // Lift what a short row may not have reached yet.
    if (redis && spec.redis == FaultSpec::RedisFault::KillAndRestart && redisStep < 2) {
        if (redisStep == 0)
            redis->kill();
        redis->restart();
    }
    if (stoppedPid > 0) {
        ::kill(pid_t(stoppedPid), SIGCONT);
        stoppedPid = -1;
    }

    poll.stop();
    (void)QTest::qWaitFor([&] { return !polling; }, 2000); // a scrape in flight would race the final one
    const QJsonObject liftStats = statsNow(host);
    observe(liftStats);
    r.breakerLastError = breakerIn(liftStats, breaker).value(QLatin1String("lastError")).toString();
    r.llmConcurrency = liftStats.value(QLatin1String("governance")).toObject().value(QLatin1String("llmConcurrency")).toObject();
    r.requestsAtLift = providerRequests(spec, fakes);
    r.faultSeconds = double(faultClock.elapsed()) / 1000.0;
    const qint64 liftMs = faultClock.elapsed();
    if (spec.lift)
        spec.lift(fakes);
    else
        fakes.setHealthy();

    const QList<CallReport> faultCalls = reports();
    QSet<QString> faultCallSids;
    for (const CallReport &call : faultCalls) {
        faultCallSids.insert(call.callSid);
        ++r.calls;
        bool ok = call.ok() && call.completed && call.turns.size() == 3 && call.malformedFrames == 0;
        for (const TurnReport &turn : call.turns) {
            ++r.turns;
            r.shortReplies += turn.agentAudioMs < 1000 ? 1 : 0;
            ok = ok && turn.latencyMs > 0;
            if (turn.latencyMs > 0)
                r.latencies << turn.latencyMs;
            if (turn.latencyMs > 0 && turn.latencyMs <= tenant.silenceBudgetMs + kSlackMs)
                ++r.turnsInBudget;
        }
        if (ok)
            ++r.callsOk;
        else
            r.problems << QStringLiteral("(a) call %1 did not complete its 3 turns normally: %2 turns, errors [%3]")
                              .arg(call.callSid)
                              .arg(call.turns.size())
                              .arg(call.errors.join(QStringLiteral("; ")));
    }
    r.p50 = percentile(r.latencies, 0.5);
    r.max = percentile(r.latencies, 1.0);
    if (r.turnsInBudget < r.turns) {
        QStringList slow;
        for (const CallReport &call : faultCalls)
            for (const TurnReport &turn : call.turns)
                if (!(turn.latencyMs > 0 && turn.latencyMs <= tenant.silenceBudgetMs + kSlackMs))
                    slow << QStringLiteral("%1#%2=%3ms").arg(call.callSid.right(6)).arg(turn.index).arg(turn.latencyMs, 0, 'f', 0);
        r.problems << QStringLiteral("(b) %1 of %2 turns heard no agent audio within %3 ms of the caller's end of speech: %4")
                          .arg(r.turns - r.turnsInBudget)
                          .arg(r.turns)
                          .arg(tenant.silenceBudgetMs + kSlackMs)
                          .arg(slow.join(QLatin1Char(' ')));
    }

    // (c) what the failing provider got: bounds from the config and the engine's own counts.
    const int faultRequests = r.requestsAtLift - r.requestsAtInject;
    if (r.opened) {
        r.openSeconds = double(liftMs - firstOpenMs) / 1000.0;
        r.requestsWhileOpen = r.requestsAtLift - r.requestsAtFirstOpen;
        const int probesAllowed = int((liftMs - firstOpenMs) / kCoolDownMs) + 1;
        // While open only probes go, one per cool-down; stragglers admitted just
        // before it opened may still retry inside their own admission.
        r.openBound = a * (probesAllowed + stragglers);
        if (spec.alwaysFails && r.requestsWhileOpen > r.openBound)
            r.problems << QStringLiteral("(c) %1 requests reached the provider while its breaker was open for %2 s; the config allows "
                                         "%3 (%4 probes at one per %5 ms cool-down + %6 stragglers, x%7 attempts)")
                              .arg(r.requestsWhileOpen).arg(r.openSeconds, 0, 'f', 1).arg(r.openBound).arg(probesAllowed)
                              .arg(kCoolDownMs).arg(stragglers).arg(a);
        if (spec.alwaysFails && r.timesOpened > probesAllowed)
            r.problems << QStringLiteral("(c) the breaker opened %1 times in %2 s: more probes than one per %3 ms cool-down")
                              .arg(r.timesOpened).arg(r.openSeconds, 0, 'f', 1).arg(kCoolDownMs);
    }
    if (spec.alwaysFails && spec.provider != Governed::Redis) {
        // Threshold failures open it; requests already in flight then land; each
        // later opening is one failed probe (and one more probe may be out).
        r.totalBound = a * (threshold + stragglers + r.timesOpened);
        if (faultRequests > r.totalBound)
            r.problems << QStringLiteral("(c) the failing provider got %1 requests during the fault (%2 turns, %3 s); the breaker "
                                         "allows at most %4 = %5 x (threshold %6 + %7 in flight + %8 openings)%9")
                              .arg(faultRequests).arg(r.turns).arg(r.faultSeconds, 0, 'f', 1).arg(r.totalBound).arg(a)
                              .arg(threshold).arg(stragglers).arg(r.timesOpened)
                              .arg(r.opened ? QString() : QStringLiteral(": it never opened"));
    }

    // --- the fault lifted: after the cool-down, one more call ------------------
    QTest::qWait(kCoolDownMs + 300);
    const int requestsBefore = providerRequests(spec, fakes);
    const int deepgramBefore = fakes.deepgram.with([](FakeDeepgram &d) { return int(d.connections().size()); });
    const int redisKeysBefore = redis ? redisKeys(redis->port()) : 0;
    callers.with([&](CallerPool &pool) {
        pool.reports.clear();
        pool.place(callerOptions(host.port(), 1));
    });
    if (!QTest::qWaitFor([&] { return callers.with([](CallerPool &pool) { return pool.reports.size(); }) >= 1; }, 90000))
        r.problems << QStringLiteral("(a) the call after the fault did not finish within 90 s");
    QTest::qWait(300); // the monitor's last transcript lines are queued
    const QList<CallReport> after = reports();
    const CallReport recovery = after.value(0);
    if (!(recovery.ok() && recovery.completed && recovery.turns.size() == 1 && recovery.turns.value(0).latencyMs > 0))
        r.problems << QStringLiteral("(a) the call after the fault failed: [%1]").arg(recovery.errors.join(QStringLiteral("; ")));

    const QJsonObject finalStats = statsNow(host);
    const QJsonObject finalBreaker = breakerIn(finalStats, breaker);
    r.breakerExists = r.breakerExists || !finalBreaker.isEmpty();
    r.finalState = finalBreaker.isEmpty() ? QStringLiteral("absent") : finalBreaker.value(QLatin1String("state")).toString();

    // Transcript lines as the engine reported them, fault-phase calls only.
    const CallMonitor *monitor = host.monitor();
    QStringList recoveryAgentLines;
    int replies = 0;
    for (int i = 0; i < monitor->count(); ++i) {
        const CallRecord &call = monitor->at(i);
        const bool faultPhase = faultCallSids.contains(call.callId);
        for (const TranscriptLine &line : call.lines) {
            if (!line.isFinal)
                continue;
            if (call.callId == recovery.callSid && line.speaker == TranscriptLine::Speaker::Agent)
                recoveryAgentLines << line.text;
            if (!faultPhase)
                continue;
            if (line.speaker == TranscriptLine::Speaker::System && line.text.startsWith(QLatin1String("Hold line")))
                ++r.holdLines;
            // One agent line per answered turn (the greeting is turn 0).
            if (line.speaker != TranscriptLine::Speaker::Agent || line.turnIndex == 0 || line.text == tenant.greeting)
                continue;
            ++replies;
            if (line.text == tenant.fallbackLine)
                ++r.apologies;
            else if (line.text.startsWith(QLatin1String(kLlmMarker)))
                ++(line.text.endsWith(QLatin1Char('.')) ? r.primaryReplies : r.cutReplies);
            else
                ++r.fallbackReplies;
        }
    }
    r.unanswered = std::max(0, r.turns - replies);

    // (d) the primary serves again.
    const int requestsDuring = providerRequests(spec, fakes) - requestsBefore;
    switch (spec.provider) {
    case Governed::Llm: {
        bool answered = false;
        for (const QString &line : recoveryAgentLines)
            answered = answered || line.startsWith(QLatin1String(kLlmMarker));
        r.primaryServedAgain = requestsDuring >= 1 && answered;
        r.primaryEvidence = QStringLiteral("%1 LLM requests, agent said [%2]").arg(requestsDuring).arg(recoveryAgentLines.join(QStringLiteral(" | ")));
        break;
    }
    case Governed::Tts: {
        const auto [sent, good] = fakes.azure.with([&](FakeAzure &az) {
            int total = 0, ok = 0;
            for (int i = requestsBefore; i < az.requestCount(); ++i, ++total)
                ok += az.requests().at(i).status == 200 && az.requests().at(i).complete ? 1 : 0;
            return std::pair{total, ok};
        });
        r.primaryServedAgain = sent >= 1 && good == sent;
        r.primaryEvidence = QStringLiteral("%1 Azure requests, %2 answered whole").arg(sent).arg(good);
        break;
    }
    case Governed::Stt: {
        const auto [accepted, finals] = fakes.deepgram.with([&](FakeDeepgram &d) {
            int acc = 0, fin = 0;
            for (qsizetype i = deepgramBefore; i < d.connections().size(); ++i) {
                const auto &c = d.connections().at(i);
                acc += c.accepted ? 1 : 0;
                for (const QString &m : c.sentMessages) {
                    const QJsonObject o = QJsonDocument::fromJson(m.toUtf8()).object();
                    const QString text = o.value(QLatin1String("channel")).toObject().value(QLatin1String("alternatives"))
                                             .toArray().first().toObject().value(QLatin1String("transcript")).toString();
                    fin += o.value(QLatin1String("is_final")).toBool() && !text.isEmpty() ? 1 : 0;
                }
            }
            return std::pair{acc, fin};
        });
        r.primaryServedAgain = accepted >= 1 && finals >= 1;
        r.primaryEvidence = QStringLiteral("%1 Deepgram connections accepted, %2 non-empty finals sent").arg(accepted).arg(finals);
        break;
    }
    case Governed::Redis: {
        const int keysAfter = redisKeys(redis->port());
        const QString state = finalStats.value(QLatin1String("redis")).toString();
        r.primaryServedAgain = state == QLatin1String("connected") && keysAfter > redisKeysBefore;
        r.primaryEvidence = QStringLiteral("redis %1, keys %2 -> %3").arg(state).arg(redisKeysBefore).arg(keysAfter);
        break;
    }
    }
    if (!r.primaryServedAgain)
        r.problems << QStringLiteral("(d) the call after the fault was not served by the primary: %1").arg(r.primaryEvidence);
    // Redis has no breaker yet (README, "Not done yet"): its client fails fast
    // while disconnected and reconnects with backoff, and (d) checks above
    // that the keys are written again.
    if (spec.provider != Governed::Redis && r.finalState != QLatin1String("closed"))
        r.problems << QStringLiteral("(d) /stats shows the %1 breaker %2 after the fault was lifted and the call served%3")
                          .arg(breaker, r.finalState,
                               finalBreaker.isEmpty() ? QStringLiteral(" (governance.breakers has no such breaker)") : QString());

    qInfo().noquote() << QStringLiteral("%1: %2/%3 calls ok, %4/%5 turns within %6 ms, p50 %7 ms, max %8 ms; provider requests %9 "
                                        "during %10 s (bound %11), opened %12x, %13 while open for %14 s (bound %15); after: %16, "
                                        "breaker %17; hold lines %18; replies: %19 primary, %20 cut mid-sentence, %21 fallback, %22 apologies, %23 none; "
                                        "%24 turns heard < 1 s of agent audio; at the lift: lastError \"%25\", llmConcurrency %26")
                             .arg(spec.id).arg(r.callsOk).arg(r.calls).arg(r.turnsInBudget).arg(r.turns)
                             .arg(tenant.silenceBudgetMs + kSlackMs).arg(r.p50, 0, 'f', 0).arg(r.max, 0, 'f', 0)
                             .arg(faultRequests).arg(r.faultSeconds, 0, 'f', 1).arg(r.totalBound).arg(r.timesOpened)
                             .arg(r.requestsWhileOpen).arg(r.openSeconds, 0, 'f', 1).arg(r.openBound)
                             .arg(r.primaryEvidence, r.finalState).arg(r.holdLines).arg(r.primaryReplies).arg(r.cutReplies)
                             .arg(r.fallbackReplies).arg(r.apologies).arg(r.unanswered).arg(r.shortReplies)
                             .arg(r.breakerLastError, QString::fromUtf8(QJsonDocument(r.llmConcurrency).toJson(QJsonDocument::Compact)));
    return r;
}

// --- the table -------------------------------------------------------------

QString FaultMatrix::tableHeader()
{
    return QStringLiteral("| fault | calls ok | turns within budget + 0.5 s | p50 / max caller-heard first audio ms | primary requests while "
                          "open (bound; times opened) | breaker reclosed | turns answered: primary / cut / fallback / apology / none "
                          "| hold lines | turns hearing < 1 s |\n"
                          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
}

QString FaultResult::tableRow() const
{
    QString whileOpen;
    if (!breakerExists)
        whileOpen = QStringLiteral("no breaker");
    else if (!opened)
        whileOpen = QStringLiteral("never opened");
    else
        whileOpen = QStringLiteral("%1 (≤ %2; %3×)").arg(requestsWhileOpen).arg(openBound).arg(timesOpened);
    QString reclosed;
    if (!breakerExists)
        reclosed = QStringLiteral("no breaker");
    else if (finalState == QLatin1String("closed"))
        reclosed = opened ? QStringLiteral("yes") : QStringLiteral("closed throughout");
    else
        reclosed = QStringLiteral("no (%1)").arg(finalState);
    if (!primaryServedAgain)
        reclosed += QStringLiteral(", primary not back");
    const QString answered = QStringLiteral("%1 / %2 / %3 / %4 / %5").arg(primaryReplies).arg(cutReplies).arg(fallbackReplies)
                                 .arg(apologies).arg(unanswered);
    return QStringLiteral("| %1 | %2/%3 | %4/%5 | %6 / %7 | %8 | %9 | %10 | %11 | %12 |\n")
        .arg(label).arg(callsOk).arg(calls).arg(turnsInBudget).arg(turns)
        .arg(p50, 0, 'f', 0).arg(max, 0, 'f', 0).arg(whileOpen, reclosed, answered).arg(holdLines).arg(shortReplies);
}

void FaultMatrix::saveRows(const QString &group, const QList<FaultResult> &results)
{
    QDir().mkpath(outDir());
    QFile file(outDir() + QLatin1Char('/') + group + QStringLiteral(".md"));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return;
    for (const FaultResult &r : results)
        file.write(r.tableRow().toUtf8());
}

QString FaultMatrix::combinedTable()
{
    QString table = tableHeader();
    for (const QString &group : kGroups) {
        QFile file(outDir() + QLatin1Char('/') + group + QStringLiteral(".md"));
        if (file.open(QIODevice::ReadOnly))
            table += QString::fromUtf8(file.readAll());
    }
    return table;
}

} // namespace apex::test
