#include "fakeazure.h"
#include "lameencoder.h"

#include "audio/g711.h"
#include "audio/vad.h"
#include "tts/azure/azuresynthesisjob.h"
#include "tts/azure/azuresynthesizer.h"
#include "httpclient/httpclientpool.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QTest>

#include "audiomeasure.h"
#include <QThread>

#include <memory>

using namespace apex;
using apex::test::FakeAzure;

namespace {

constexpr int kWaitMs = 60000; // generous: the fake synthesises real speech on 2 shared cores

const QString kEnglish = QStringLiteral("Hello, thank you for calling. How can I help you today?");
const QString kHindi = QStringLiteral("नमस्ते, कॉल करने के लिए धन्यवाद। मैं आपकी क्या मदद कर सकती हूँ?");

// Everything a job emitted, in order, plus what the fake had left to send at
// the moment of the first chunk.
struct Collected
{
    QByteArray audio;
    int chunks = 0;
    int finished = 0;
    int failed = 0;
    QString failure;
    qint64 unsentAtFirstChunk = -1;
    bool completeAtFirstChunk = false;
    int signalsTotal() const { return chunks + finished + failed; }
    bool ended() const { return finished + failed > 0; }
};

void collect(SynthesisJob *job, Collected &c, FakeAzure *fake = nullptr)
{
    QObject::connect(job, &SynthesisJob::audio, job, [&c, fake](const QByteArray &a) {
        if (c.chunks == 0 && fake) {
            c.unsentAtFirstChunk = fake->unsentBodyBytes();
            c.completeAtFirstChunk = fake->requestCount() > 0 && fake->requests().last().complete;
        }
        c.audio += a;
        ++c.chunks;
    });
    QObject::connect(job, &SynthesisJob::finished, job, [&c] { ++c.finished; });
    QObject::connect(job, &SynthesisJob::failed, job, [&c](const QString &r) {
        ++c.failed;
        c.failure = r;
    });
}

using apex::test::loudness;

// u-law has two zeros (0xFF, 0x7F); PCM -> u-law gives 0xFF for both.
QByteArray canonicalZero(QByteArray mulaw)
{
    mulaw.replace(char(0x7F), char(0xFF));
    return mulaw;
}

} // namespace

class TestAzure : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void requestHeadersAndSsml_data();
    void requestHeadersAndSsml();
    void hostileTextReachesAzureAsText();
    void mulawStreamsBeforeBodyComplete();
    void firstChunkWhileFakeHolds();
    void outputFormats_data();
    void outputFormats();
    void mp3Streams();
    void httpErrors_data();
    void httpErrors();
    void wrongKeyIs401();
    void stallBeforeHeadersTimesOut();
    void stallMidBodyTimesOut();
    void closeMidBody_data();
    void closeMidBody();
    void cancelMidBodyStopsEverything();
    void deleteFromAudioSlot();
    void cancelBeforeResponse();
    void emptyTextNeedsNoRequest();
    void notConfiguredFails();
    void connectionRefused();
    void connectionReusedOnOneThread();
    void otherThreadHasItsOwnNetwork();
    void fakeAcceptsBearerToken();
    void twentySentencesAreInFlightAtOnce();

private:
    AzureSettings settings(const QString &format = QStringLiteral("raw-8khz-8bit-mono-mulaw")) const;
    Collected run(AzureSynthesizer &synth, const SynthesisRequest &request);

    std::unique_ptr<FakeAzure> m_fake;
};

void TestAzure::initTestCase()
{
    // Warm the fake's speech cache and the engines so per-test time is network time.
    FakeAzure warm;
    QVERIFY(!warm.speech(QStringLiteral("en-US"), kEnglish).isEmpty());
}

void TestAzure::init()
{
    m_fake = std::make_unique<FakeAzure>();
    QVERIFY(m_fake->listen());
}

void TestAzure::cleanup()
{
    m_fake.reset();
}

AzureSettings TestAzure::settings(const QString &format) const
{
    AzureSettings s;
    s.key = QStringLiteral("test-key");
    s.url = m_fake->url().toString();
    s.outputFormat = format;
    s.userAgent = QStringLiteral("apex-test");
    s.requestTimeoutMs = 20000; // per-test where the timeout is the subject
    return s;
}

Collected TestAzure::run(AzureSynthesizer &synth, const SynthesisRequest &request)
{
    Collected c;
    QObject owner;
    SynthesisJob *job = synth.synthesize(request, &owner);
    collect(job, c, m_fake.get());
    (void)QTest::qWaitFor([&] { return c.ended(); }, kWaitMs);
    return c;
}

void TestAzure::requestHeadersAndSsml_data()
{
    QTest::addColumn<QString>("voice");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expectedVoice");
    QTest::addColumn<QString>("expectedLang");
    QTest::newRow("jenny") << "en-US-JennyNeural" << kEnglish << "en-US-JennyNeural" << "en-US";
    QTest::newRow("swara") << "hi-IN-SwaraNeural" << kHindi << "hi-IN-SwaraNeural" << "hi-IN";
    QTest::newRow("flite voice -> default") << "slt" << kEnglish << "en-US-JennyNeural" << "en-US";
}

void TestAzure::requestHeadersAndSsml()
{
    QFETCH(QString, voice);
    QFETCH(QString, text);
    QFETCH(QString, expectedVoice);
    QFETCH(QString, expectedLang);
    AzureSynthesizer synth(settings());
    const Collected c = run(synth, {text, voice, QStringLiteral("en"), QStringLiteral("tenant-a")});
    QVERIFY2(c.finished == 1, qPrintable(c.failure));
    QCOMPARE(c.failed, 0);

    QCOMPARE(m_fake->requestCount(), 1);
    const FakeAzure::Request &r = m_fake->requests().first();
    QCOMPARE(r.method, QByteArray("POST"));
    QCOMPARE(r.path, QByteArray("/cognitiveservices/v1"));
    QCOMPARE(r.header("ocp-apim-subscription-key"), QByteArray("test-key"));
    QCOMPARE(r.header("content-type"), QByteArray("application/ssml+xml"));
    QCOMPARE(r.header("x-microsoft-outputformat"), QByteArray("raw-8khz-8bit-mono-mulaw"));
    QCOMPARE(r.header("user-agent"), QByteArray("apex-test"));
    QVERIFY2(r.ssmlValid, qPrintable(r.ssmlError));
    QCOMPARE(r.elements, QStringList({QStringLiteral("speak"), QStringLiteral("voice")}));
    QCOMPARE(r.speakVersion, QStringLiteral("1.0"));
    QCOMPARE(r.speakNamespace, QStringLiteral("http://www.w3.org/2001/10/synthesis"));
    QCOMPARE(r.voice, expectedVoice);
    QCOMPARE(r.speakLang, expectedLang);
    QCOMPARE(r.text, text);
    QCOMPARE(r.status, 200);

    // Real speech, of a plausible length for the sentence, exactly as served.
    QCOMPARE(c.audio, r.audio);
    const double seconds = c.audio.size() / 8000.0;
    QVERIFY2(seconds > 1.5 && seconds < 15.0, qPrintable(QString::number(seconds)));
    const auto [loudest, share] = loudness(c.audio);
    QVERIFY2(loudest > -30.0, qPrintable(QString::number(loudest)));
    QVERIFY2(share > 0.3, qPrintable(QString::number(share)));
}

void TestAzure::hostileTextReachesAzureAsText()
{
    const QString hostile = QStringLiteral("Fine</voice><voice name=\"en-US-GuyNeural\">evil ]]> <!ENTITY x \"y\"> &x; "
                                           "\"quoted\" 'single' 😀 नमस्ते");
    AzureSynthesizer synth(settings());
    const Collected c = run(synth, {hostile, QStringLiteral("en-US-JennyNeural"), {}, {}});
    QVERIFY2(c.finished == 1, qPrintable(c.failure));
    const FakeAzure::Request &r = m_fake->requests().first();
    QVERIFY2(r.ssmlValid, qPrintable(r.ssmlError));
    QCOMPARE(r.voiceCount, 1);
    QCOMPARE(r.voice, QStringLiteral("en-US-JennyNeural"));
    QCOMPARE(r.text, hostile);
}

void TestAzure::mulawStreamsBeforeBodyComplete()
{
    FakeAzure::Options o;
    o.chunkBytes = 800;      // 100 ms of audio a chunk
    o.chunkIntervalMs = 25;  // 4x faster than real time, as Azure streams
    o.firstByteLatencyMs = 50;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings());
    const Collected c = run(synth, {kEnglish, QStringLiteral("en-US-JennyNeural"), {}, {}});
    QVERIFY2(c.finished == 1, qPrintable(c.failure));
    const FakeAzure::Request &r = m_fake->requests().first();
    QCOMPARE(r.header("x-microsoft-outputformat"), QByteArray("raw-8khz-8bit-mono-mulaw"));
    QVERIFY(r.audio.size() > 8 * o.chunkBytes);
    // The first chunk came while the fake still had most of the body to send.
    QVERIFY2(c.unsentAtFirstChunk > 0, qPrintable(QString::number(c.unsentAtFirstChunk)));
    QVERIFY(!c.completeAtFirstChunk);
    QVERIFY(c.chunks > 1);
    QCOMPARE(c.audio, r.audio);
}

void TestAzure::firstChunkWhileFakeHolds()
{
    // Deterministic form of the above: the fake stops after 3 frames and waits.
    FakeAzure::Options o;
    o.holdAfterBytes = 480;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings());
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c, m_fake.get());
    QVERIFY(QTest::qWaitFor([&] { return c.chunks > 0 || c.ended(); }, kWaitMs));
    QCOMPARE(c.failed, 0);
    QCOMPARE(c.audio.size(), 480); // whole 20 ms frames as they came
    QVERIFY(c.unsentAtFirstChunk > 0);
    QVERIFY(!c.ended());
    m_fake->release();
    QVERIFY(QTest::qWaitFor([&] { return c.ended(); }, kWaitMs));
    QVERIFY2(c.finished == 1, qPrintable(c.failure));
    QCOMPARE(c.audio, m_fake->requests().first().audio);
    QCOMPARE(qobject_cast<AzureSynthesisJob *>(job)->audioBytes(), c.audio.size());
    QVERIFY(qobject_cast<AzureSynthesisJob *>(job)->firstAudioMs() >= 0);
}

void TestAzure::outputFormats_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<bool>("exact"); // mu-law equal to the fake's speech; else length and energy
    QTest::addColumn<int>("chunkBytes");
    QTest::newRow("riff mulaw") << "riff-8khz-8bit-mono-mulaw" << true << 0;
    QTest::newRow("riff mulaw chunked") << "riff-8khz-8bit-mono-mulaw" << true << 7;
    QTest::newRow("raw pcm 8k") << "raw-8khz-16bit-mono-pcm" << true << 333;
    QTest::newRow("riff pcm 8k") << "riff-8khz-16bit-mono-pcm" << true << 0;
    QTest::newRow("raw pcm 16k") << "raw-16khz-16bit-mono-pcm" << false << 1001;
    QTest::newRow("riff pcm 24k") << "riff-24khz-16bit-mono-pcm" << false << 0;
}

void TestAzure::outputFormats()
{
    QFETCH(QString, format);
    QFETCH(bool, exact);
    QFETCH(int, chunkBytes);
    FakeAzure::Options o;
    o.chunkBytes = chunkBytes;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings(format));
    const Collected c = run(synth, {kEnglish, {}, {}, {}});
    QVERIFY2(c.finished == 1, qPrintable(c.failure));
    QCOMPARE(m_fake->requests().first().header("x-microsoft-outputformat"), format.toLatin1());
    const QByteArray speech = m_fake->speech(QStringLiteral("en-US"), kEnglish);
    if (format.startsWith(QLatin1String("riff")))
        QVERIFY(m_fake->requests().first().audio.startsWith("RIFF")); // the header was there to strip
    if (exact) {
        QCOMPARE(canonicalZero(c.audio), canonicalZero(speech));
    } else {
        QVERIFY2(std::abs(c.audio.size() - speech.size()) <= speech.size() / 50,
                 qPrintable(QStringLiteral("%1 vs %2").arg(c.audio.size()).arg(speech.size())));
        QVERIFY(loudness(c.audio).first > -30.0);
    }
}

void TestAzure::mp3Streams()
{
    if (!test::lameAvailable())
        QSKIP("libmp3lame not available (libmp3lame-dev): the fake cannot encode MP3");
    FakeAzure::Options o;
    o.mp3Encoder = [](const QVector<std::int16_t> &pcm, int rateHz, int kbps) { return test::encodeMp3(pcm, rateHz, kbps); };
    o.chunkBytes = 1000; // 250 ms of 32 kbit/s MP3 a chunk
    o.chunkIntervalMs = 20;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings(QStringLiteral("audio-16khz-32kbitrate-mono-mp3")));
    const Collected c = run(synth, {kEnglish, {}, {}, {}});
    QVERIFY2(c.finished == 1, qPrintable(c.failure));
    const FakeAzure::Request &r = m_fake->requests().first();
    QCOMPARE(r.header("x-microsoft-outputformat"), QByteArray("audio-16khz-32kbitrate-mono-mp3"));
    QVERIFY(r.audio.size() > 4 * o.chunkBytes);
    QVERIFY2(c.unsentAtFirstChunk > 0, "MP3 audio must be decoded progressively");
    const QByteArray speech = m_fake->speech(QStringLiteral("en-US"), kEnglish);
    // Encoder delay and padding: a few 36 ms frames more.
    QVERIFY2(c.audio.size() >= speech.size() && c.audio.size() < speech.size() + 2400,
             qPrintable(QStringLiteral("%1 vs %2").arg(c.audio.size()).arg(speech.size())));
    const auto [loudest, share] = loudness(c.audio);
    QVERIFY(loudest > -30.0);
    QVERIFY(share > 0.3);
}

void TestAzure::httpErrors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("failure");
    QTest::addColumn<QString>("words");
    using F = AzureSynthesisJob::Failure;
    QTest::newRow("400") << 400 << int(F::BadRequest) << "invalid parameter";
    QTest::newRow("401") << 401 << int(F::Unauthorized) << "Azure rejected the key or region";
    QTest::newRow("415") << 415 << int(F::UnsupportedMediaType) << "application/ssml+xml";
    QTest::newRow("429") << 429 << int(F::RateLimited) << "too many requests";
    QTest::newRow("500") << 500 << int(F::ServerError) << "service error";
    QTest::newRow("502") << 502 << int(F::ServerError) << "service error";
    QTest::newRow("503") << 503 << int(F::ServerError) << "service error";
}

void TestAzure::httpErrors()
{
    QFETCH(int, status);
    QFETCH(int, failure);
    QFETCH(QString, words);
    FakeAzure::Faults f;
    f.status = status;
    m_fake->setFaults(f);
    AzureSynthesizer synth(settings());
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c);
    QVERIFY(QTest::qWaitFor([&] { return c.ended(); }, kWaitMs));
    QCOMPARE(c.failed, 1);
    QCOMPARE(c.finished, 0);
    QCOMPARE(c.chunks, 0); // an error body is never played
    QVERIFY2(c.failure.contains(QStringLiteral("HTTP %1").arg(status)), qPrintable(c.failure));
    QVERIFY2(c.failure.contains(words), qPrintable(c.failure));
    QVERIFY2(!c.failure.contains(QStringLiteral("test-key")), "the key never appears in a reason");
    auto *azureJob = qobject_cast<AzureSynthesisJob *>(job);
    QVERIFY(azureJob);
    QCOMPARE(int(azureJob->failure()), failure);
    QCOMPARE(azureJob->httpStatus(), status);
}

void TestAzure::wrongKeyIs401()
{
    AzureSettings s = settings();
    s.key = QStringLiteral("wrong-key");
    AzureSynthesizer synth(s);
    const Collected c = run(synth, {kEnglish, {}, {}, {}});
    QCOMPARE(c.failed, 1);
    QVERIFY2(c.failure.contains(QStringLiteral("401")) && c.failure.contains(QStringLiteral("Azure rejected the key or region")),
             qPrintable(c.failure));
    QVERIFY(!c.failure.contains(QStringLiteral("wrong-key")));
    QCOMPARE(m_fake->requests().first().status, 401);
}

void TestAzure::stallBeforeHeadersTimesOut()
{
    FakeAzure::Faults f;
    f.stallBeforeHeaders = true;
    m_fake->setFaults(f);
    QVERIFY(!m_fake->speech(QStringLiteral("en-US"), kEnglish).isEmpty()); // no synthesis inside the deadline
    AzureSettings s = settings();
    s.requestTimeoutMs = 300;
    AzureSynthesizer synth(s);
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c);
    QVERIFY(QTest::qWaitFor([&] { return c.ended(); }, kWaitMs));
    QCOMPARE(c.failed, 1);
    QVERIFY2(c.failure.contains(QStringLiteral("timed out")), qPrintable(c.failure));
    QCOMPARE(qobject_cast<AzureSynthesisJob *>(job)->failure(), AzureSynthesisJob::Failure::Timeout);
    QCOMPARE(m_fake->requestCount(), 1);
    // The aborted request closes its connection.
    QVERIFY(QTest::qWaitFor([&] { return m_fake->openConnectionCount() == 0; }, kWaitMs));
}

// Twenty calls' first sentences at once must all reach Azure: none may wait
// behind another call's sentence in our own queue (Qt alone opens six
// connections per host and queues the rest).
void TestAzure::twentySentencesAreInFlightAtOnce()
{
    FakeAzure::Faults f;
    f.stallBeforeHeaders = true; // every request stays open until we let go
    m_fake->setFaults(f);
    AzureSettings s = settings();
    s.requestTimeoutMs = 60000;
    AzureSynthesizer synth(s);
    QObject owner;
    QList<SynthesisJob *> jobs;
    for (int i = 0; i < 20; ++i)
        jobs << synth.synthesize({QStringLiteral("Sentence number %1 of a different call.").arg(i), {}, {}, {}}, &owner);
    QVERIFY2(QTest::qWaitFor([&] { return m_fake->requestCount() == 20; }, kWaitMs),
             qPrintable(QStringLiteral("only %1 requests reached Azure").arg(m_fake->requestCount())));
    for (const auto &request : m_fake->requests())
        QCOMPARE(request.status, 0); // all twenty open at once: none was answered
    QVERIFY(m_fake->openConnectionCount() >= 20);
    for (SynthesisJob *job : std::as_const(jobs))
        job->cancel();
}

void TestAzure::stallMidBodyTimesOut()
{
    FakeAzure::Faults f;
    f.stallAfterBytes = 800;
    m_fake->setFaults(f);
    FakeAzure::Options o;
    o.chunkBytes = 400;
    m_fake->setOptions(o);
    QVERIFY(!m_fake->speech(QStringLiteral("en-US"), kEnglish).isEmpty()); // no synthesis inside the deadline
    AzureSettings s = settings();
    s.requestTimeoutMs = 300;
    AzureSynthesizer synth(s);
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c);
    QVERIFY(QTest::qWaitFor([&] { return c.ended(); }, kWaitMs));
    QCOMPARE(c.failed, 1);
    QCOMPARE(c.finished, 0);
    QCOMPARE(c.audio.size(), 800); // what came before the stall was played
    QVERIFY2(c.failure.contains(QStringLiteral("timed out")) && c.failure.contains(QStringLiteral("stalled")),
             qPrintable(c.failure));
    QCOMPARE(qobject_cast<AzureSynthesisJob *>(job)->failure(), AzureSynthesisJob::Failure::Timeout);
}

void TestAzure::closeMidBody_data()
{
    QTest::addColumn<int>("chunkBytes");
    QTest::newRow("content-length") << 0;
    QTest::newRow("chunked") << 400;
}

void TestAzure::closeMidBody()
{
    QFETCH(int, chunkBytes);
    FakeAzure::Faults f;
    f.closeAfterBytes = 1600;
    m_fake->setFaults(f);
    FakeAzure::Options o;
    o.chunkBytes = chunkBytes;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings());
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c);
    QVERIFY(QTest::qWaitFor([&] { return c.ended(); }, kWaitMs));
    QCOMPARE(c.failed, 1);
    QCOMPARE(c.finished, 0);
    QVERIFY(c.audio.size() <= 1600);
    QVERIFY2(c.failure.contains(QStringLiteral("lost")), qPrintable(c.failure));
    QCOMPARE(qobject_cast<AzureSynthesisJob *>(job)->failure(), AzureSynthesisJob::Failure::Truncated);
}

void TestAzure::cancelMidBodyStopsEverything()
{
    FakeAzure::Options o;
    o.holdAfterBytes = 1600;
    o.chunkBytes = 400;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings());
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c);
    QVERIFY(QTest::qWaitFor([&] { return c.chunks > 0; }, kWaitMs));
    job->cancel();
    const int before = c.signalsTotal();
    // cancel() aborted the request: the fake sees the connection go while it
    // still holds most of the body, and has no one to send it to.
    QVERIFY(QTest::qWaitFor([&] { return m_fake->openConnectionCount() == 0; }, kWaitMs));
    m_fake->release();
    QVERIFY(!m_fake->requests().first().complete);
    QCOMPARE(m_fake->requests().first().bodyBytesSent, 1600);
    QCoreApplication::processEvents();
    QCoreApplication::sendPostedEvents();
    QCoreApplication::processEvents();
    QCOMPARE(c.signalsTotal(), before);
    QCOMPARE(c.finished + c.failed, 0);
    job->cancel(); // twice is harmless
    QCOMPARE(c.signalsTotal(), before);
}

void TestAzure::deleteFromAudioSlot()
{
    FakeAzure::Options o;
    o.chunkBytes = 400;
    o.chunkIntervalMs = 5;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings());
    QObject owner;
    QPointer<SynthesisJob> job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    int chunks = 0, ends = 0;
    connect(job, &SynthesisJob::audio, &owner, [&] {
        ++chunks;
        delete job.data(); // the barge-in path: the speaker drops the sentence
    });
    connect(job, &SynthesisJob::finished, &owner, [&] { ++ends; });
    connect(job, &SynthesisJob::failed, &owner, [&] { ++ends; });
    QVERIFY(QTest::qWaitFor([&] { return job.isNull(); }, kWaitMs));
    QVERIFY(QTest::qWaitFor([&] { return m_fake->openConnectionCount() == 0; }, kWaitMs));
    QCoreApplication::processEvents();
    QCOMPARE(chunks, 1);
    QCOMPARE(ends, 0);
}

void TestAzure::cancelBeforeResponse()
{
    FakeAzure::Options o;
    o.firstByteLatencyMs = 200;
    m_fake->setOptions(o);
    AzureSynthesizer synth(settings());
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c);
    QVERIFY(QTest::qWaitFor([&] { return m_fake->requestCount() == 1; }, kWaitMs));
    job->cancel();
    QVERIFY(QTest::qWaitFor([&] { return m_fake->openConnectionCount() == 0; }, kWaitMs));
    QCoreApplication::processEvents();
    QCOMPARE(c.signalsTotal(), 0);
}

void TestAzure::emptyTextNeedsNoRequest()
{
    AzureSynthesizer synth(settings());
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({QStringLiteral("  \t") + QChar(1) + QStringLiteral(" "), {}, {}, {}}, &owner);
    collect(job, c); // connected after synthesize() returned: nothing may have been missed
    QVERIFY(QTest::qWaitFor([&] { return c.ended(); }, kWaitMs));
    QCOMPARE(c.finished, 1);
    QCOMPARE(c.chunks, 0);
    QCOMPARE(m_fake->requestCount(), 0);
}

void TestAzure::notConfiguredFails()
{
    AzureSettings s = settings();
    s.key.clear();
    AzureSynthesizer synth(s);
    QVERIFY(!synth.supports({kEnglish, {}, {}, {}}));
    const Collected c = run(synth, {kEnglish, {}, {}, {}});
    QCOMPARE(c.failed, 1);
    QVERIFY2(c.failure.contains(QStringLiteral("not configured")), qPrintable(c.failure));
    QCOMPARE(m_fake->requestCount(), 0);
}

void TestAzure::connectionRefused()
{
    AzureSettings s = settings();
    const quint16 port = m_fake->port();
    m_fake.reset(); // nothing listens there now
    s.url = QStringLiteral("http://127.0.0.1:%1/cognitiveservices/v1").arg(port);
    AzureSynthesizer synth(s);
    QObject owner;
    Collected c;
    SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, &owner);
    collect(job, c);
    QVERIFY(QTest::qWaitFor([&] { return c.ended(); }, kWaitMs));
    QCOMPARE(c.failed, 1);
    QVERIFY2(c.failure.contains(QStringLiteral("network error")), qPrintable(c.failure));
    QCOMPARE(qobject_cast<AzureSynthesisJob *>(job)->failure(), AzureSynthesisJob::Failure::Network);
    m_fake = std::make_unique<FakeAzure>(); // for cleanup()
}

void TestAzure::connectionReusedOnOneThread()
{
    AzureSynthesizer first(settings());
    AzureSynthesizer second(settings()); // another instance, same thread: same manager
    QVERIFY(run(first, {kEnglish, {}, {}, {}}).finished == 1);
    QVERIFY(run(second, {kEnglish, {}, {}, {}}).finished == 1);
    QVERIFY(run(first, {kEnglish, {}, {}, {}}).finished == 1);
    QCOMPARE(m_fake->requestCount(), 3);
    QCOMPARE(m_fake->connectionCount(), 1);
}

void TestAzure::otherThreadHasItsOwnNetwork()
{
    AzureSynthesizer synth(settings());
    HttpClientPool *mine = HttpClientPool::forThread(QStringLiteral("azure-tts"));
    QCOMPARE(HttpClientPool::forThread(QStringLiteral("azure-tts")), mine);

    QThread worker;
    worker.setObjectName(QStringLiteral("test-engine-1"));
    worker.start();
    QObject *anchor = new QObject;
    anchor->moveToThread(&worker);

    // Everything below runs on the worker, as an engine thread would.
    QPointer<HttpClientPool> theirs;
    QAtomicInt finished = 0, failed = 0, audioOnWorker = 0;
    QAtomicInt bytes = 0;
    QThread *workerThread = &worker;
    QMetaObject::invokeMethod(anchor, [&, anchor] {
        theirs = HttpClientPool::forThread(QStringLiteral("azure-tts"));
        SynthesisJob *job = synth.synthesize({kEnglish, {}, {}, {}}, anchor);
        QObject::connect(job, &SynthesisJob::audio, anchor, [&bytes, &audioOnWorker, workerThread](const QByteArray &a) {
            bytes.fetchAndAddOrdered(int(a.size()));
            if (QThread::currentThread() == workerThread)
                audioOnWorker.storeRelease(1);
        });
        QObject::connect(job, &SynthesisJob::finished, anchor, [&finished] { finished.storeRelease(1); });
        QObject::connect(job, &SynthesisJob::failed, anchor, [&failed] { failed.storeRelease(1); });
    }, Qt::QueuedConnection);
    QVERIFY(QTest::qWaitFor([&] { return finished.loadAcquire() || failed.loadAcquire(); }, kWaitMs));
    QCOMPARE(failed.loadAcquire(), 0);
    QCOMPARE(audioOnWorker.loadAcquire(), 1);
    QCOMPARE(bytes.loadAcquire(), m_fake->requests().first().audio.size());
    QVERIFY(theirs);
    QVERIFY(theirs.data() != mine);

    QObject::connect(&worker, &QThread::finished, anchor, &QObject::deleteLater);
    worker.quit();
    QVERIFY(worker.wait(kWaitMs));
    // The thread's pool went with the thread.
    QTRY_VERIFY_WITH_TIMEOUT(theirs.isNull(), kWaitMs);
}

void TestAzure::fakeAcceptsBearerToken()
{
    // protocols.md §5: Authorization: Bearer is accepted as well as the key.
    QNetworkAccessManager network;
    QNetworkRequest request(m_fake->url());
    request.setRawHeader("Authorization", "Bearer test-token");
    request.setRawHeader("Content-Type", "application/ssml+xml");
    request.setRawHeader("X-Microsoft-OutputFormat", "raw-8khz-8bit-mono-mulaw");
    request.setRawHeader("User-Agent", "apex-test");
    QNetworkReply *reply = network.post(request, AzureSynthesizer::ssmlFor({kEnglish, {}, {}, {}}, AzureSettings{}));
    QVERIFY(QTest::qWaitFor([&] { return reply->isFinished(); }, kWaitMs));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(reply->readAll(), m_fake->speech(QStringLiteral("en-US"), kEnglish));
    reply->deleteLater();

    // And a wrong Content-Type is a 415, as Azure answers.
    request.setRawHeader("Content-Type", "text/plain");
    reply = network.post(request, QByteArray("hello"));
    QVERIFY(QTest::qWaitFor([&] { return reply->isFinished(); }, kWaitMs));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 415);
    reply->deleteLater();
}

QTEST_GUILESS_MAIN(TestAzure)
#include "test_azure.moc"
