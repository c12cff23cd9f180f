// apex-fake-cloud: the three cloud fakes as one standalone process, for load
// measurements of the cloud pipeline without the cloud. Prints the environment
// an engine needs to use them, then serves until killed.
#include "fakeazure.h"
#include "fakedeepgram.h"
#include "fakegroq.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <atomic>

using namespace apex::test;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Deepgram, Groq and Azure fakes on 127.0.0.1 for load tests."));
    parser.addHelpOption();
    const QCommandLineOption ttftOption(QStringLiteral("ttft-ms"), QStringLiteral("Groq time to first token (default 150)."), QStringLiteral("ms"), QStringLiteral("150"));
    const QCommandLineOption ttsOption(QStringLiteral("tts-first-byte-ms"), QStringLiteral("Azure time to first byte (default 150)."), QStringLiteral("ms"), QStringLiteral("150"));
    const QCommandLineOption transcriptOption(QStringLiteral("transcript"), QStringLiteral("What Deepgram hears in every utterance."), QStringLiteral("text"), QStringLiteral("what are your opening hours"));
    parser.addOptions({ttftOption, ttsOption, transcriptOption});
    parser.process(app);

    FakeDeepgram deepgram;
    FakeGroq groq;
    FakeAzure azure;
    if (!deepgram.listen() || !groq.start() || !azure.listen()) {
        QTextStream(stderr) << "apex-fake-cloud: cannot listen on 127.0.0.1\n";
        return 1;
    }
    // The script is consumed one utterance at a time: enough for any load run.
    for (int i = 0; i < 100000; ++i)
        deepgram.addTranscript(parser.value(transcriptOption));

    FakeGroq::Script script;
    script.timeToFirstTokenMs = parser.value(ttftOption).toInt();
    // Every reply opens with a sentence no other call says, so the TTS cache
    // cannot hide Azure's latency from the measurement.
    static std::atomic<int> ticket{1000};
    script.replyFor = [](const FakeGroqRequest &) {
        return QStringLiteral("Your ticket number is %1. We are open Monday to Saturday, from nine to six.").arg(ticket++);
    };
    groq.setScript(script);

    FakeAzure::Options tts = azure.options();
    tts.firstByteLatencyMs = parser.value(ttsOption).toInt();
    azure.setOptions(tts);

    QTextStream out(stdout);
    out << "DEEPGRAM_API_KEY=" << deepgram.options().apiKey << " DEEPGRAM_URL=" << deepgram.url().toString()
        << " GROQ_API_KEY=gsk_fake_0123456789 LLM_BASE_URL=" << groq.baseUrl()
        << " AZURE_SPEECH_KEY=" << azure.options().key << " AZURE_TTS_URL=" << azure.url().toString() << "\n";
    out.flush();
    return app.exec();
}
