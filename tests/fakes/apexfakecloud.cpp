// apex-fake-cloud: the three cloud fakes as one standalone process, for load
// measurements of the cloud pipeline without the cloud. Prints the environment
// an engine needs to use them, then serves until SIGINT/SIGTERM, and then its
// own CPU time (per fake) on stderr.
//
// Each fake runs on a thread of its own, so one fake's work does not delay
// another's stamps. With --timeline FILE every turn is stamped from outside the
// engine on CLOCK_MONOTONIC (std::chrono::steady_clock, the clock apex-call
// stamps with), one JSON line per event:
//   stt_final  Deepgram handed a speech_final result to the socket
//   llm_req    the chat completions request was read whole
//   llm_tok    the first content token was written and flushed
//   llm_sent   the token that ends the first sentence was written and flushed
//   tts_req    the Azure request for the reply's first sentence was read whole
//   tts_byte   the first audio byte of that request was written
// A tag joins them: every utterance Deepgram "hears" ends in a number of its
// own ("... reference 100007"), the LLM's reply opens with a sentence carrying
// it ("Your ticket number is 100007."), so no two calls say the same sentence
// and the TTS cache cannot hide Azure, and the fake Azure starts that
// sentence's audio with the bytes "APXTAG0000100007" (2 ms of noise), which
// apex-call reads from the first agent frame of the turn (its --timeline).
#include "fakeazure.h"
#include "fakedeepgram.h"
#include "fakegroq.h"

#include "host/quitonsignals.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSemaphore>
#include <QSet>
#include <QTextStream>
#include <QThread>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>

using namespace apex::test;

namespace {

std::int64_t nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpuSeconds(int who)
{
    rusage usage{};
    getrusage(who, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Stamps from the three fake threads into one file, a line each.
class Timeline
{
public:
    bool open(const QString &path)
    {
        m_file = std::fopen(path.toLocal8Bit().constData(), "w");
        return m_file != nullptr;
    }
    ~Timeline()
    {
        if (m_file)
            std::fclose(m_file);
    }
    void stamp(const char *event, qint64 tag, int index, std::int64_t ns)
    {
        if (!m_file)
            return;
        const std::lock_guard lock(m_mutex);
        std::fprintf(m_file, "{\"ev\":\"%s\",\"tag\":%lld,\"i\":%d,\"ns\":%lld}\n", event, static_cast<long long>(tag), index,
                     static_cast<long long>(ns));
    }

private:
    std::mutex m_mutex;
    std::FILE *m_file = nullptr;
};

Timeline g_timeline;

// The tag an utterance, request or sentence carries: its last number of 6+ digits; -1 if none.
qint64 tagIn(const QString &text)
{
    static const QRegularExpression number(QStringLiteral("(\\d{6,})"));
    qint64 tag = -1;
    auto it = number.globalMatch(text);
    while (it.hasNext())
        tag = it.next().captured(1).toLongLong();
    return tag;
}

QByteArray audioTag(qint64 tag)
{
    return "APXTAG" + QByteArray::number(tag).rightJustified(10, '0');
}

// A thread that builds its fake on itself, so the fake, its sockets and its
// timers all live there, and destroys it there when stopped.
class FakeThread : public QThread
{
public:
    FakeThread(const char *name, std::function<std::shared_ptr<void>()> setup)
        : m_name(name)
        , m_setup(std::move(setup))
    {
        setObjectName(QString::fromLatin1(name));
    }
    bool startAndWait()
    {
        start();
        m_ready.acquire();
        return m_ok;
    }
    const char *name() const { return m_name; }
    double cpu() const { return m_cpu; }

protected:
    void run() override
    {
        std::shared_ptr<void> fake = m_setup();
        m_ok = fake != nullptr;
        m_ready.release();
        if (m_ok)
            exec();
        fake.reset();
        m_cpu = cpuSeconds(RUSAGE_THREAD);
    }

private:
    const char *m_name;
    std::function<std::shared_ptr<void>()> m_setup;
    QSemaphore m_ready;
    bool m_ok = false;
    double m_cpu = 0;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QElapsedTimer wall;
    wall.start();
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Deepgram, Groq and Azure fakes on 127.0.0.1 for load tests."));
    parser.addHelpOption();
    const QCommandLineOption ttftOption(QStringLiteral("ttft-ms"), QStringLiteral("Groq time to first token (default 150)."), QStringLiteral("ms"), QStringLiteral("150"));
    const QCommandLineOption ttsOption(QStringLiteral("tts-first-byte-ms"), QStringLiteral("Azure time to first byte (default 150)."), QStringLiteral("ms"), QStringLiteral("150"));
    const QCommandLineOption speedupOption(QStringLiteral("tts-speedup"), QStringLiteral("Azure streams audio this many times faster than real time, in 100 ms chunks (default 20; 0: the whole body at once)."), QStringLiteral("x"), QStringLiteral("20"));
    const QCommandLineOption transcriptOption(QStringLiteral("transcript"), QStringLiteral("What Deepgram hears in every utterance (a tag number is appended)."), QStringLiteral("text"), QStringLiteral("what are your opening hours"));
    const QCommandLineOption timelineOption(QStringLiteral("timeline"), QStringLiteral("Write the fakes' stamps here, one JSON line each."), QStringLiteral("file"));
    parser.addOptions({ttftOption, ttsOption, speedupOption, transcriptOption, timelineOption});
    parser.process(app);

    if (parser.isSet(timelineOption) && !g_timeline.open(parser.value(timelineOption))) {
        QTextStream(stderr) << "apex-fake-cloud: cannot write " << parser.value(timelineOption) << "\n";
        return 1;
    }
    const QString transcript = parser.value(transcriptOption);
    const int ttftMs = parser.value(ttftOption).toInt();
    const int firstByteMs = parser.value(ttsOption).toInt();
    const int speedup = parser.value(speedupOption).toInt();

    QString deepgramKey, deepgramUrl, groqUrl, azureKey, azureUrl;

    FakeThread deepgramThread("deepgram", [&]() -> std::shared_ptr<void> {
        auto deepgram = std::make_shared<FakeDeepgram>();
        if (!deepgram->listen())
            return nullptr;
        // The script is consumed one utterance at a time, whichever connection
        // ends one: every utterance gets a tag of its own.
        for (int i = 0; i < 100000; ++i)
            deepgram->addTranscript(QStringLiteral("%1 reference %2").arg(transcript).arg(100000 + i));
        QObject::connect(deepgram.get(), &FakeDeepgram::messageSent, deepgram.get(), [](int index, const QString &text) {
            if (!text.contains(QLatin1String("\"speech_final\":true")))
                return;
            const std::int64_t ns = nowNs();
            const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
            const QString said = message.value(QLatin1String("channel")).toObject().value(QLatin1String("alternatives")).toArray()
                                     .at(0).toObject().value(QLatin1String("transcript")).toString();
            g_timeline.stamp("stt_final", tagIn(said), index, ns);
        });
        deepgramKey = deepgram->options().apiKey;
        deepgramUrl = deepgram->url().toString();
        return deepgram;
    });

    FakeThread groqThread("groq", [&]() -> std::shared_ptr<void> {
        auto groq = std::make_shared<FakeGroq>();
        if (!groq->start())
            return nullptr;
        FakeGroq::Script script;
        script.timeToFirstTokenMs = ttftMs;
        // Every reply opens with a sentence no other call says, carrying the
        // utterance's tag (or a ticket of its own for an untagged utterance).
        static std::atomic<qint64> ticket{900000};
        auto lastUserText = [](const FakeGroqRequest &request) {
            const QJsonArray messages = request.messages();
            for (qsizetype i = messages.size() - 1; i >= 0; --i) {
                const QJsonObject m = messages.at(i).toObject();
                if (m.value(QLatin1String("role")).toString() == QLatin1String("user"))
                    return m.value(QLatin1String("content")).toString();
            }
            return QString();
        };
        script.replyFor = [lastUserText](const FakeGroqRequest &request) {
            qint64 tag = tagIn(lastUserText(request));
            if (tag < 0)
                tag = ticket++;
            return QStringLiteral("Your ticket number is %1. We are open Monday to Saturday, from nine to six.").arg(tag);
        };
        groq->setScript(script);
        auto tags = std::make_shared<QHash<int, qint64>>();
        auto firstToken = std::make_shared<QSet<int>>();
        auto firstSentence = std::make_shared<QSet<int>>();
        FakeGroq *g = groq.get();
        QObject::connect(g, &FakeGroq::requestReceived, g, [g, tags, lastUserText](int index) {
            const std::int64_t ns = nowNs();
            const qint64 tag = tagIn(lastUserText(g->requests().at(index)));
            tags->insert(index, tag);
            g_timeline.stamp("llm_req", tag, index, ns);
        });
        QObject::connect(g, &FakeGroq::eventSent, g, [tags, firstToken, firstSentence](int index, const QByteArray &event) {
            if (firstSentence->contains(index) || !event.startsWith("data: {"))
                return;
            const std::int64_t ns = nowNs();
            const QJsonObject chunk = QJsonDocument::fromJson(event.mid(6).trimmed()).object();
            const QString content = chunk.value(QLatin1String("choices")).toArray().at(0).toObject().value(QLatin1String("delta"))
                                        .toObject().value(QLatin1String("content")).toString();
            if (content.isEmpty())
                return;
            const qint64 tag = tags->value(index, -1);
            if (!firstToken->contains(index)) {
                firstToken->insert(index);
                g_timeline.stamp("llm_tok", tag, index, ns);
            }
            static const QRegularExpression sentenceEnd(QStringLiteral("[.!?]"));
            if (content.contains(sentenceEnd)) {
                firstSentence->insert(index);
                g_timeline.stamp("llm_sent", tag, index, ns);
            }
        });
        groqUrl = groq->baseUrl();
        return groq;
    });

    FakeThread azureThread("azure", [&]() -> std::shared_ptr<void> {
        auto azure = std::make_shared<FakeAzure>();
        if (!azure->listen())
            return nullptr;
        FakeAzure *a = azure.get();
        FakeAzure::Options tts = a->options();
        tts.firstByteLatencyMs = firstByteMs;
        if (speedup > 0) {
            tts.chunkBytes = 800; // 100 ms of 8 kHz mu-law
            tts.chunkIntervalMs = std::max(1, 100 / speedup);
        }
        // Synthesis happens once per distinct untagged text (greetings, fixed
        // sentences); a tagged sentence is the tag's bytes and one stand-in
        // sentence spoken once, so no request waits on flite under load.
        const QByteArray standIn = a->speech(QStringLiteral("en-US"), QStringLiteral("Your ticket number is ready."));
        tts.speak = [a, standIn](const QString &locale, const QString &text) {
            const qint64 tag = tagIn(text);
            if (tag < 0)
                return a->speech(locale, text);
            return audioTag(tag) + standIn;
        };
        a->setOptions(tts);
        a->speech(QStringLiteral("en-US"), QStringLiteral("We are open Monday to Saturday, from nine to six."));
        auto tags = std::make_shared<QHash<int, qint64>>();
        QObject::connect(a, &FakeAzure::requestReceived, a, [a, tags](int index) {
            const std::int64_t ns = nowNs();
            const qint64 tag = tagIn(a->requests().at(index).text);
            if (tag < 0)
                return;
            tags->insert(index, tag);
            g_timeline.stamp("tts_req", tag, index, ns);
        });
        QObject::connect(a, &FakeAzure::bodyBytesWritten, a, [tags](int index, qint64 sent, qint64) {
            if (!tags->contains(index))
                return;
            const std::int64_t ns = nowNs();
            g_timeline.stamp("tts_byte", tags->take(index), index, ns);
            (void)sent;
        });
        azureKey = a->options().key;
        azureUrl = a->url().toString();
        return azure;
    });

    FakeThread *threads[] = {&deepgramThread, &groqThread, &azureThread};
    bool ok = true;
    for (FakeThread *thread : threads)
        ok = thread->startAndWait() && ok;
    if (!ok) {
        QTextStream(stderr) << "apex-fake-cloud: cannot listen on 127.0.0.1\n";
        for (FakeThread *thread : threads) {
            thread->quit();
            thread->wait();
        }
        return 1;
    }

    QTextStream out(stdout);
    out << "DEEPGRAM_API_KEY=" << deepgramKey << " DEEPGRAM_URL=" << deepgramUrl
        << " GROQ_API_KEY=gsk_fake_0123456789 LLM_BASE_URL=" << groqUrl
        << " AZURE_SPEECH_KEY=" << azureKey << " AZURE_TTS_URL=" << azureUrl << "\n";
    out.flush();

    apex::QuitOnSignals quitOnSignals;
    const int code = app.exec();
    for (FakeThread *thread : threads) {
        thread->quit();
        thread->wait();
    }
    QTextStream err(stderr);
    err << "apex-fake-cloud: cpu " << QString::number(cpuSeconds(RUSAGE_SELF), 'f', 2) << " s over "
        << QString::number(double(wall.elapsed()) / 1000.0, 'f', 1) << " s wall (";
    for (FakeThread *thread : threads)
        err << thread->name() << " " << QString::number(thread->cpu(), 'f', 2) << " s, ";
    err << "the rest " << QString::number(cpuSeconds(RUSAGE_SELF) - deepgramThread.cpu() - groqThread.cpu() - azureThread.cpu(), 'f', 2)
        << " s)\n";
    return code;
}
