// apex-call: plays Twilio against a running engine -- one scripted call, or N
// concurrent ones as a load generator -- and reports per-turn latency.

#include "http/listenaddress.h"
#include "observability/logging.h"
#include "democall/callaudio.h"
#include "democall/callbatch.h"
#include "tts/embedded/embeddedsynthesizer.h"

#include "enginestatsprobe.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QTextStream>

#include <cstdio>

#include <sys/resource.h>

using namespace apex;

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

// --say and --wav interleave in command-line order; QCommandLineParser keeps
// only per-option lists, so the order is recovered from the raw arguments.
QStringList scriptOrder(const QStringList &arguments)
{
    QStringList order;
    for (const QString &arg : arguments) {
        if (arg == QLatin1String("--say") || arg.startsWith(QLatin1String("--say=")))
            order.append(QStringLiteral("say"));
        else if (arg == QLatin1String("--wav") || arg.startsWith(QLatin1String("--wav=")))
            order.append(QStringLiteral("wav"));
    }
    return order;
}

QString recordPathFor(const QString &path, int index, int calls)
{
    if (calls <= 1)
        return path;
    const QFileInfo info(path);
    const QString suffix = info.suffix().isEmpty() ? QStringLiteral("wav") : info.suffix();
    return info.path() + QLatin1Char('/') + info.completeBaseName() + QStringLiteral("-%1.").arg(index + 1) + suffix;
}

double processCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// One JSON line per turn (turn 0: the greeting) with the caller's monotonic
// stamps, for joining with the fakes' stamps (tests/bench/apex-bench.sh).
QByteArray timelineLines(int index, const CallReport &report)
{
    QByteArray lines;
    const QByteArray head = "{\"call\":" + QByteArray::number(index + 1) + ",\"sid\":\"" + report.callSid.toLatin1() + "\"";
    lines += head + ",\"turn\":0,\"latencyMs\":" + QByteArray::number(report.greetingLatencyMs, 'f', 3)
        + ",\"callLate5\":" + QByteArray::number(report.lateFrames) + ",\"callLate40\":" + QByteArray::number(report.veryLateFrames)
        + ",\"frames\":" + QByteArray::number(report.framesReceived) + ",\"lateTicks\":" + QByteArray::number(report.lateTicks)
        + ",\"maxTickLateMs\":" + QByteArray::number(report.maxTickLateMs, 'f', 1) + ",\"maxTickLateNs\":" + QByteArray::number(report.maxTickLateNs)
        + ",\"ok\":" + (report.ok() ? "true" : "false") + "}\n";
    for (const TurnReport &turn : report.turns) {
        lines += head + ",\"turn\":" + QByteArray::number(turn.index) + ",\"eosNs\":" + QByteArray::number(turn.endOfSpeechNs)
            + ",\"firstNs\":" + QByteArray::number(turn.firstFrameNs) + ",\"latencyMs\":" + QByteArray::number(turn.latencyMs, 'f', 3)
            + ",\"tag\":" + QByteArray::number(turn.audioTag) + ",\"frames\":" + QByteArray::number(turn.agentFrames)
            + ",\"late5\":" + QByteArray::number(turn.lateFrames) + ",\"late40\":" + QByteArray::number(turn.veryLateFrames)
            + ",\"maxLateMs\":" + QByteArray::number(turn.maxLateMs, 'f', 1) + ",\"maxLateAtMs\":" + QByteArray::number(turn.maxLateAtMs, 'f', 0) + "}\n";
    }
    return lines;
}

QString ms(double value)
{
    return value < 0 ? QStringLiteral("-") : QString::number(qRound(value));
}

void printReport(int index, const CallReport &report, const QString &recordPath)
{
    QTextStream &o = out();
    o << "call " << index + 1 << " " << (report.callSid.isEmpty() ? QStringLiteral("(no CallSid)") : report.callSid)
      << (report.tenant.isEmpty() ? QString() : QStringLiteral(" tenant=") + report.tenant) << ": "
      << (report.ok() ? "ok" : "FAILED") << "\n";
    if (report.greetingLatencyMs >= 0)
        o << "  greeting: first agent frame " << ms(report.greetingLatencyMs) << " ms after start\n";
    for (const TurnReport &turn : report.turns) {
        o << "  turn " << turn.index << ": end-of-speech → first agent frame: "
          << (turn.latencyMs < 0 ? QStringLiteral("none") : ms(turn.latencyMs) + QStringLiteral(" ms"))
          << " (reply " << ms(turn.agentAudioMs) << " ms of audio)";
        if (turn.bargedIn) {
            o << (turn.clearReceived ? QStringLiteral(", barge-in: clear after %1 ms").arg(ms(turn.clearAfterMs))
                                     : QStringLiteral(", barge-in: NO clear"));
        }
        o << "\n";
    }
    o << "  frames received " << report.framesReceived << ", malformed frames " << report.malformedFrames
      << ", clears " << report.clearsReceived << ", marks " << report.marksEchoed << "/" << report.marksReceived
      << " echoed, frames sent " << report.framesSent;
    if (report.lateTicks > 0)
        o << ", late ticks " << report.lateTicks;
    o << "\n";
    for (const QString &note : report.notes)
        o << "  note: " << note << "\n";
    for (const QString &error : report.errors)
        o << "  error: " << error << "\n";
    if (!recordPath.isEmpty())
        o << "  agent audio: " << recordPath << "\n";
    o.flush();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("apex-call"));
    QCoreApplication::setApplicationVersion(QStringLiteral(APEX_CALL_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Simulated Twilio caller: streams a scripted call to an APEX engine over the Media Streams protocol "
        "and reports end-of-speech to first-agent-frame latency per turn."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption engineOption(QStringLiteral("engine"), QStringLiteral("Engine address (default 127.0.0.1:8080)."),
                                          QStringLiteral("HOST:PORT"), QStringLiteral("127.0.0.1:8080"));
    const QCommandLineOption tenantOption(QStringLiteral("tenant"), QStringLiteral("Tenant id sent as the <Parameter> tenant."), QStringLiteral("ID"));
    const QCommandLineOption sayOption(QStringLiteral("say"), QStringLiteral("An utterance, spoken with flite (repeatable)."), QStringLiteral("TEXT"));
    const QCommandLineOption wavOption(QStringLiteral("wav"), QStringLiteral("An utterance from a WAV file (repeatable)."), QStringLiteral("FILE"));
    const QCommandLineOption voiceOption(QStringLiteral("voice"), QStringLiteral("flite voice for --say (default slt)."), QStringLiteral("NAME"), QStringLiteral("slt"));
    const QCommandLineOption recordOption(QStringLiteral("record"), QStringLiteral("Write the agent's audio as heard to a WAV file (-N suffix per call)."), QStringLiteral("FILE.wav"));
    const QCommandLineOption callsOption(QStringLiteral("calls"), QStringLiteral("Concurrent calls (default 1)."), QStringLiteral("N"), QStringLiteral("1"));
    const QCommandLineOption staggerOption(QStringLiteral("stagger-ms"), QStringLiteral("Delay between call starts (default 250)."), QStringLiteral("MS"), QStringLiteral("250"));
    const QCommandLineOption bargeOption(QStringLiteral("barge-in-after-ms"), QStringLiteral("Speak the next utterance over a reply once it has played this long."), QStringLiteral("MS"), QStringLiteral("0"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout-ms"), QStringLiteral("Fail a call if the agent does not start a greeting/reply within this (default 20000)."), QStringLiteral("MS"), QStringLiteral("20000"));
    const QCommandLineOption quietOption(QStringLiteral("quiet-ms"), QStringLiteral("Agent silence that ends a reply (default 800)."), QStringLiteral("MS"), QStringLiteral("800"));
    const QCommandLineOption speakFirstOption(QStringLiteral("no-greeting"), QStringLiteral("Do not wait for a greeting; speak after 500 ms."));
    const QCommandLineOption fromOption(QStringLiteral("from"), QStringLiteral("Caller number (<Parameter> from)."), QStringLiteral("E164"), QStringLiteral("+15555550100"));
    const QCommandLineOption toOption(QStringLiteral("to"), QStringLiteral("Called number (<Parameter> to)."), QStringLiteral("E164"), QStringLiteral("+15555550199"));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"), QStringLiteral("Log at info level."));
    const QCommandLineOption webhookOption(QStringLiteral("webhook"), QStringLiteral("Place each call as Twilio does: POST /twilio/voice first and open the stream with the TwiML's parameters (implied by --auth-token; --tenant is then ignored)."));
    const QCommandLineOption authTokenOption(QStringLiteral("auth-token"), QStringLiteral("Twilio auth token to sign the webhook with (X-Twilio-Signature); default $TWILIO_AUTH_TOKEN when --webhook is given."), QStringLiteral("TOKEN"));
    const QCommandLineOption publicUrlOption(QStringLiteral("public-url"), QStringLiteral("The engine's public URL, when it has one: the signature covers PUBLIC_URL/twilio/voice, as Twilio's would."), QStringLiteral("URL"));
    const QCommandLineOption timelineOption(QStringLiteral("timeline"), QStringLiteral("Write each turn's monotonic stamps (end of speech, first agent frame), tag and late frames as JSON lines."), QStringLiteral("FILE"));
    const QCommandLineOption operatorTokenOption(QStringLiteral("operator-token"), QStringLiteral("Bearer token for the engine's /stats (default $APEX_OPERATOR_TOKEN)."), QStringLiteral("TOKEN"));
    parser.addOptions({engineOption, tenantOption, sayOption, wavOption, voiceOption, recordOption, callsOption, staggerOption,
                       bargeOption, timeoutOption, quietOption, speakFirstOption, fromOption, toOption, verboseOption,
                       webhookOption, authTokenOption, publicUrlOption, operatorTokenOption, timelineOption});
    parser.process(app);
    log::initialize(parser.isSet(verboseOption) ? spdlog::level::info : spdlog::level::warn);

    auto intOption = [&](const QCommandLineOption &option, int min, int *value) {
        bool ok = false;
        *value = parser.value(option).toInt(&ok);
        if (!ok || *value < min) {
            err() << "apex-call: --" << option.names().first() << " wants a whole number >= " << min << ", not \""
                  << parser.value(option) << "\"\n";
            return false;
        }
        return true;
    };
    int calls = 1, staggerMs = 0, bargeInMs = 0, timeoutMs = 0, quietMs = 0;
    if (!intOption(callsOption, 1, &calls) || !intOption(staggerOption, 0, &staggerMs) || !intOption(bargeOption, 0, &bargeInMs)
        || !intOption(timeoutOption, 100, &timeoutMs) || !intOption(quietOption, 20, &quietMs))
        return 2;

    QString error;
    const auto engine = ListenAddress::parse(parser.value(engineOption), &error);
    if (!engine) {
        err() << "apex-call: --engine: " << error << "\n";
        return 2;
    }

    SimulatedCallerOptions options;
    options.host = engine->host == QLatin1String("0.0.0.0") ? QStringLiteral("127.0.0.1") : engine->host;
    options.port = engine->port;
    options.tenant = parser.value(tenantOption);
    options.from = parser.value(fromOption);
    options.to = parser.value(toOption);
    options.bargeInAfterMs = bargeInMs;
    options.answerTimeoutMs = timeoutMs;
    options.agentQuietMs = quietMs;
    options.greeting = parser.isSet(speakFirstOption) ? GreetingPolicy::SpeakFirst : GreetingPolicy::WaitForGreeting;
    options.viaWebhook = parser.isSet(webhookOption) || parser.isSet(authTokenOption);
    if (options.viaWebhook) {
        options.authToken = parser.isSet(authTokenOption) ? parser.value(authTokenOption) : qEnvironmentVariable("TWILIO_AUTH_TOKEN");
        if (parser.isSet(publicUrlOption)) {
            QString base = parser.value(publicUrlOption).trimmed();
            while (base.endsWith(QLatin1Char('/')))
                base.chop(1);
            options.signedWebhookUrl = base + options.webhookPath;
        }
    }

    // The script, synthesised or read once and shared by every call.
    const QStringList says = parser.values(sayOption);
    const QStringList wavs = parser.values(wavOption);
    qsizetype sayIndex = 0, wavIndex = 0;
    for (const QString &kind : scriptOrder(QCoreApplication::arguments())) {
        if (kind == QLatin1String("say") && sayIndex < says.size()) {
            const QString &text = says.at(sayIndex++);
            SynthesisRequest request{text, parser.value(voiceOption), QStringLiteral("en")};
            const QByteArray mulaw = EmbeddedSynthesizer::synthesizeBlocking(request, &error);
            if (mulaw.isEmpty()) {
                err() << "apex-call: cannot synthesise \"" << text << "\": " << error << "\n";
                return 2;
            }
            options.utterances.append(mulaw);
        } else if (kind == QLatin1String("wav") && wavIndex < wavs.size()) {
            const auto mulaw = callaudio::readWavAsMulaw(wavs.at(wavIndex++), &error);
            if (!mulaw) {
                err() << "apex-call: " << error << "\n";
                return 2;
            }
            options.utterances.append(*mulaw);
        }
    }

    const QString recordPath = parser.value(recordOption);
    QFile timeline(parser.value(timelineOption));
    if (parser.isSet(timelineOption) && !timeline.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        err() << "apex-call: --timeline: cannot write " << timeline.fileName() << "\n";
        return 2;
    }
    QElapsedTimer batchClock;
    double cpuAtStart = 0;
    CallBatch batch(options, calls, staggerMs);
    int exitCode = 0;
    QObject::connect(&batch, &CallBatch::callFinished, &app, [&](int index, const CallReport &report) {
        QString written;
        if (!recordPath.isEmpty()) {
            written = recordPathFor(recordPath, index, calls);
            if (!callaudio::writeMulawAsWav(written, report.agentAudio, &error)) {
                err() << "apex-call: " << error << "\n";
                written.clear();
                exitCode = 1;
            }
        }
        printReport(index, report, written);
        if (timeline.isOpen())
            timeline.write(timelineLines(index, report));
    });
    EngineStatsProbe stats(options.host, options.port,
                           parser.isSet(operatorTokenOption) ? parser.value(operatorTokenOption)
                                                             : qEnvironmentVariable("APEX_OPERATOR_TOKEN"));
    QObject::connect(&batch, &CallBatch::finished, &app, [&] {
        const int failed = batch.failedCalls();
        if (calls > 1) {
            const LatencySummary summary = LatencySummary::of(batch.reports());
            out() << "calls: " << calls - failed << " ok, " << failed << " failed\n";
            out() << "end-of-speech → first agent frame over " << summary.turns << " turns: p50 " << ms(summary.p50Ms)
                  << " ms, p95 " << ms(summary.p95Ms) << " ms, p99 " << ms(summary.p99Ms) << " ms, max "
                  << ms(summary.maxMs) << " ms\n";
            out().flush();
        }
        int frames = 0, late = 0, veryLate = 0;
        for (const auto &report : batch.reports()) {
            frames += report.framesReceived;
            late += report.lateFrames;
            veryLate += report.veryLateFrames;
        }
        out() << "caller: agent frames " << frames << ", late as heard (playout dry) > 5 ms: " << late << ", > 40 ms: " << veryLate << "\n";
        const double batchSeconds = double(batchClock.elapsed()) / 1000.0;
        const double callerCpu = processCpuSeconds() - cpuAtStart;
        out() << "caller: CPU " << QString::number(callerCpu, 'f', 2) << " s over " << QString::number(batchSeconds, 'f', 1)
              << " s (" << QString::number(batchSeconds > 0 ? 100.0 * callerCpu / batchSeconds : 0.0, 'f', 1) << " % of one core)\n";
        out().flush();
        timeline.close();
        double callSeconds = 0;
        for (const auto &report : batch.reports())
            callSeconds += report.durationMs / 1000.0;
        stats.finish(calls, callSeconds, [&, failed](const QString &text) {
            out() << text;
            out().flush();
            QCoreApplication::exit(failed > 0 ? 1 : exitCode);
        });
    });
    stats.start([&] {
        batchClock.start();
        cpuAtStart = processCpuSeconds();
        batch.start();
    });
    return app.exec();
}
