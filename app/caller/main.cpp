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
#include <QFileInfo>
#include <QHash>
#include <QTextStream>

#include <cstdio>

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
    parser.addOptions({engineOption, tenantOption, sayOption, wavOption, voiceOption, recordOption, callsOption, staggerOption,
                       bargeOption, timeoutOption, quietOption, speakFirstOption, fromOption, toOption, verboseOption});
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
    });
    EngineStatsProbe stats(options.host, options.port);
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
        double callSeconds = 0;
        for (const auto &report : batch.reports())
            callSeconds += report.durationMs / 1000.0;
        stats.finish(calls, callSeconds, [&, failed](const QString &text) {
            out() << text;
            out().flush();
            QCoreApplication::exit(failed > 0 ? 1 : exitCode);
        });
    });
    stats.start([&] { batch.start(); });
    return app.exec();
}
