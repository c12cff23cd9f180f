#include "audio/g711.h"
#include "fakedeepgram.h"
#include "stt/deepgram/deepgramrecognizer.h"
#include "stt/deepgram/deepgramrecognizerfactory.h"
#include "tenancy/tenant.h"
#include "tts/embedded/embeddedsynthesizer.h"

#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QtEndian>

#include <functional>
#include <memory>

using namespace apex;
using apex::test::FakeDeepgram;

namespace {

constexpr int kFrameBytes = 160; // 20 ms of 8 kHz mu-law
const QString kKey = QStringLiteral("dg-test-key-0123456789");

QByteArray silence(int ms)
{
    return QByteArray(ms * 8, char(0xFF)); // mu-law zero
}

// The caller: flite speech as the telephone carries it, 8 kHz mu-law.
QByteArray speech(const QString &text)
{
    static QHash<QString, QByteArray> cache;
    if (!cache.contains(text)) {
        QString error;
        const QByteArray mulaw = EmbeddedSynthesizer::synthesizeBlocking(
            SynthesisRequest{text, QStringLiteral("rms"), QStringLiteral("en"), QString()}, &error);
        if (mulaw.isEmpty())
            qFatal("flite failed: %s", qPrintable(error));
        cache.insert(text, mulaw);
    }
    return cache.value(text);
}

QByteArray utterance(const QString &text, int trailingSilenceMs = 1800)
{
    return silence(300) + speech(text) + silence(trailingSilenceMs);
}

// Pushes 20 ms frames on a timer, as a telephony leg does. Faster than real
// time by default: the fake measures audio time, not wall time.
class Feeder
{
public:
    Feeder(SpeechRecognizer *recognizer, QByteArray audio, int intervalMs = 5)
        : m_recognizer(recognizer)
        , m_audio(std::move(audio))
    {
        m_timer.setInterval(intervalMs);
        QObject::connect(&m_timer, &QTimer::timeout, [this] { tick(); });
        m_timer.start();
    }
    bool done() const { return m_offset >= m_audio.size(); }
    qsizetype pushedBytes() const { return m_offset; }
    QByteArray pushed() const { return m_audio.left(m_offset); }
    void pause() { m_timer.stop(); }
    void resume() { m_timer.start(); }
    void stopAt(qsizetype bytes) { m_limit = bytes; }

private:
    void tick()
    {
        if (done() || (m_limit >= 0 && m_offset >= m_limit)) {
            m_timer.stop();
            return;
        }
        const qsizetype n = std::min<qsizetype>(kFrameBytes, m_audio.size() - m_offset);
        const QByteArray frame = m_audio.mid(m_offset, n);
        m_offset += n;
        m_recognizer->pushMulaw(frame);
    }

    SpeechRecognizer *m_recognizer;
    QByteArray m_audio;
    qsizetype m_offset = 0;
    qsizetype m_limit = -1;
    QTimer m_timer;
};

// Every signal in order, so tests can assert the contract's sequence.
struct Events
{
    explicit Events(SpeechRecognizer *recognizer)
    {
        QObject::connect(recognizer, &SpeechRecognizer::speechStarted, [this] { list << QStringLiteral("started"); });
        QObject::connect(recognizer, &SpeechRecognizer::partialTranscript, [this](const QString &t) { list << QStringLiteral("partial:") + t; });
        QObject::connect(recognizer, &SpeechRecognizer::endOfSpeech, [this] { list << QStringLiteral("end"); });
        QObject::connect(recognizer, &SpeechRecognizer::finalTranscript, [this](const QString &t) { list << QStringLiteral("final:") + t; finals << t; });
        QObject::connect(recognizer, &SpeechRecognizer::failed, [this](const QString &r) { list << QStringLiteral("failed:") + r; failures << r; });
    }
    int count(const QString &prefix) const
    {
        int n = 0;
        for (const QString &event : list)
            n += event.startsWith(prefix) ? 1 : 0;
        return n;
    }
    QStringList list;
    QStringList finals;
    QStringList failures;
};

Tenant tenant(const QString &language = QStringLiteral("en"))
{
    Tenant t;
    t.id = QStringLiteral("acme");
    t.language = language;
    t.endpointingMs = 250;
    return t;
}

} // namespace

class TestDeepgram : public QObject
{
    Q_OBJECT

    std::unique_ptr<FakeDeepgram> m_fake;

    DeepgramSettings settings() const
    {
        DeepgramSettings s;
        s.url = m_fake->url().toString();
        s.apiKey = kKey;
        return s;
    }

    std::unique_ptr<DeepgramRecognizer> recognizer(const DeepgramSettings &s, const Tenant &t = tenant())
    {
        return std::make_unique<DeepgramRecognizer>(s, DeepgramCallSettings::forTenant(t, QStringLiteral("CAtest")));
    }

private Q_SLOTS:
    void initTestCase()
    {
        // flite once up front, so no test's timing includes its start-up.
        QVERIFY(!speech(QStringLiteral("What are your opening hours?")).isEmpty());
    }

    void init()
    {
        m_fake = std::make_unique<FakeDeepgram>();
        FakeDeepgram::Options options;
        options.apiKey = kKey;
        m_fake->setOptions(options);
        QVERIFY(m_fake->listen());
    }

    void cleanup() { m_fake.reset(); }

    void queryAndAuthorization()
    {
        DeepgramRecognizerFactory factory(settings());
        QCOMPARE(factory.name(), QStringLiteral("deepgram"));
        auto stt = factory.create(tenant(), QStringLiteral("CAquery"));
        QTRY_COMPARE(m_fake->connectionCount(), 1);
        const FakeDeepgram::Connection &c = m_fake->connections().first();
        QCOMPARE(c.path, QStringLiteral("/v1/listen"));
        QCOMPARE(c.headers.value("authorization"), "Token " + kKey.toUtf8());
        const QList<std::pair<QString, QString>> expected = {
            {QStringLiteral("model"), QStringLiteral("nova-2")},
            {QStringLiteral("language"), QStringLiteral("en")},
            {QStringLiteral("encoding"), QStringLiteral("mulaw")},
            {QStringLiteral("sample_rate"), QStringLiteral("8000")},
            {QStringLiteral("channels"), QStringLiteral("1")},
            {QStringLiteral("endpointing"), QStringLiteral("250")},
            {QStringLiteral("interim_results"), QStringLiteral("true")},
            {QStringLiteral("utterance_end_ms"), QStringLiteral("1000")},
            {QStringLiteral("vad_events"), QStringLiteral("true")},
            {QStringLiteral("punctuate"), QStringLiteral("true")},
            {QStringLiteral("smart_format"), QStringLiteral("true")},
        };
        QCOMPARE(c.query.queryItems().size(), expected.size());
        for (const auto &[key, value] : expected)
            QCOMPARE(c.query.queryItemValue(key), value);
        // The key travels only in the header.
        QVERIFY(!c.query.toString().contains(kKey));
    }

    void hindiTenant()
    {
        DeepgramRecognizerFactory factory(settings());
        auto stt = factory.create(tenant(QStringLiteral("hi")), QStringLiteral("CAhindi"));
        QTRY_COMPARE(m_fake->connectionCount(), 1);
        QCOMPARE(m_fake->connections().first().query.queryItemValue(QStringLiteral("language")), QStringLiteral("hi"));
    }

    void transcribesAnUtterance()
    {
        const QString text = QStringLiteral("What are your opening hours?");
        m_fake->addTranscript(text);
        auto stt = recognizer(settings());
        Events events(stt.get());
        // Frames start at once: the first ones wait in the recognizer for the handshake.
        const QByteArray audio = utterance(text);
        Feeder feeder(stt.get(), audio);
        stt->pushMulaw(QByteArrayView()); // must never become an empty (closing) binary frame

        QTRY_COMPARE_WITH_TIMEOUT(events.finals.size(), 1, 15000);
        QCOMPARE(events.finals.first(), text);
        QTRY_VERIFY(feeder.done());
        QTRY_COMPARE(m_fake->allAudio().size(), audio.size());
        QVERIFY(m_fake->allAudio() == audio); // mu-law as is, nothing lost or added
        QCOMPARE(m_fake->connections().first().emptyBinaryFrames, 0);
        QCOMPARE(m_fake->connectionCount(), 1);

        // started (barge-in hint) -> partials -> end -> final, once each.
        QCOMPARE(events.count(QStringLiteral("started")), 1);
        QCOMPARE(events.list.first(), QStringLiteral("started"));
        QVERIFY2(events.count(QStringLiteral("partial:")) >= 1, qPrintable(events.list.join(u'|')));
        const qsizetype end = events.list.indexOf(QStringLiteral("end"));
        QVERIFY(end > 1);
        QCOMPARE(events.list.value(end + 1), QStringLiteral("final:") + text);
        QCOMPARE(events.count(QStringLiteral("end")), 1);
        QVERIFY(events.failures.isEmpty());
        // The fake's own UtteranceEnd after speech_final did not end a second turn.
        QTRY_VERIFY(m_fake->sentMessageCount(QStringLiteral("UtteranceEnd")) >= 1);
        QCOMPARE(events.count(QStringLiteral("end")), 1);
    }

    void twoUtterances()
    {
        m_fake->addTranscript(QStringLiteral("Do you have parking?"));
        m_fake->addTranscript(QStringLiteral("Are you open on Saturday?"));
        auto stt = recognizer(settings());
        Events events(stt.get());
        Feeder feeder(stt.get(), utterance(QStringLiteral("Do you have parking?"))
                                     + utterance(QStringLiteral("Are you open on Saturday?")));
        QTRY_COMPARE_WITH_TIMEOUT(events.finals.size(), 2, 20000);
        QCOMPARE(events.finals, (QStringList{QStringLiteral("Do you have parking?"), QStringLiteral("Are you open on Saturday?")}));
        QCOMPARE(events.count(QStringLiteral("started")), 2);
        QCOMPARE(events.count(QStringLiteral("end")), 2);
    }

    void utteranceEndWhenNoSpeechFinal()
    {
        // A noisy line: endpointing never sees silence, so only UtteranceEnd ends the turn.
        FakeDeepgram::Options options = m_fake->options();
        options.sendSpeechFinal = false;
        m_fake->setOptions(options);
        const QString text = QStringLiteral("Do you accept insurance?");
        m_fake->addTranscript(text);
        auto stt = recognizer(settings());
        Events events(stt.get());
        Feeder feeder(stt.get(), utterance(text, 2500));
        QTRY_COMPARE_WITH_TIMEOUT(events.finals.size(), 1, 15000);
        QCOMPARE(events.finals.first(), text);
        QCOMPARE(events.count(QStringLiteral("end")), 1);
        QCOMPARE(m_fake->sentMessageCount(QStringLiteral("UtteranceEnd")), 1);
        for (const QString &message : m_fake->connections().first().sentMessages)
            QVERIFY(!message.contains(QLatin1String("\"speech_final\":true")));
    }

    void keepAliveHoldsAQuietCall()
    {
        FakeDeepgram::Options options = m_fake->options();
        options.noAudioTimeoutMs = 1000; // Deepgram's 10 s, shortened
        m_fake->setOptions(options);
        DeepgramSettings s = settings();
        s.keepAliveIntervalMs = 250;
        auto stt = recognizer(s);
        Events events(stt.get());
        const QString text = QStringLiteral("Can I book an appointment?");
        const QByteArray audio = silence(200) + utterance(text);
        Feeder feeder(stt.get(), audio);
        feeder.stopAt(silence(200).size()); // then the caller is on hold: no audio at all
        QTRY_VERIFY(feeder.pushedBytes() == silence(200).size());
        // Eight KeepAlives span 2 s: twice the fake's no-audio timeout.
        QTRY_VERIFY_WITH_TIMEOUT(m_fake->textMessageCount(QStringLiteral("KeepAlive")) >= 8, 10000);
        QCOMPARE(m_fake->connectionCount(), 1);
        QCOMPARE(m_fake->openConnectionCount(), 1);
        QVERIFY(stt->isConnected());
        QCOMPARE(m_fake->connections().first().serverCloseCode, -1);

        // Off hold: the same connection still transcribes.
        m_fake->addTranscript(text);
        const int keepAlivesOnHold = m_fake->textMessageCount(QStringLiteral("KeepAlive"));
        feeder.stopAt(-1);
        feeder.resume();
        QTRY_COMPARE_WITH_TIMEOUT(events.finals.size(), 1, 15000);
        QCOMPARE(events.finals.first(), text);
        QCOMPARE(m_fake->connectionCount(), 1);
        // None while audio flows (frames every few ms, well inside 250 ms); one may
        // have been on its way as the feeder resumed.
        QVERIFY(m_fake->textMessageCount(QStringLiteral("KeepAlive")) <= keepAlivesOnHold + 1);
        QVERIFY(events.failures.isEmpty());
    }

    void withoutKeepAliveTheFakeTimesOut()
    {
        // The control for the test above: the fake's 1011 NET-0001 is real, and
        // the recognizer answers it with a new connection rather than a failure.
        FakeDeepgram::Options options = m_fake->options();
        options.noAudioTimeoutMs = 500;
        m_fake->setOptions(options);
        DeepgramSettings s = settings();
        s.keepAliveIntervalMs = 60000;
        auto stt = recognizer(s);
        Events events(stt.get());
        QTRY_VERIFY_WITH_TIMEOUT(m_fake->connectionCount() >= 2, 10000);
        QCOMPARE(m_fake->connections().first().serverCloseCode, 1011);
        QVERIFY(events.failures.isEmpty());
    }

    void dropMidUtteranceReconnectsAndReplays()
    {
        FakeDeepgram::Options options = m_fake->options();
        options.finalSegmentMs = 600; // an is_final span lands before the drop
        m_fake->setOptions(options);
        FakeDeepgram::Faults faults;
        faults.dropAfterAudioMs = 300 + 1100; // 1.1 s into the speech
        m_fake->setFaults(faults);
        const QString text = QStringLiteral("How much does a cleaning cost at your clinic?");
        m_fake->addTranscript(text);

        auto stt = recognizer(settings());
        Events events(stt.get());
        const QByteArray audio = utterance(text);
        Feeder feeder(stt.get(), audio);
        QTRY_COMPARE_WITH_TIMEOUT(events.finals.size(), 1, 15000);
        QCOMPARE(events.finals.first(), text); // whole, once
        QCOMPARE(events.count(QStringLiteral("end")), 1);
        QVERIFY(events.failures.isEmpty());
        QCOMPARE(m_fake->connectionCount(), 2);
        QVERIFY(m_fake->connections().first().droppedByFault);
        QVERIFY(m_fake->connections().first().sentMessages.join(u'\n').contains(QLatin1String("\"is_final\":true")));

        QTRY_VERIFY(feeder.done());
        QTRY_COMPARE(m_fake->allAudio().size() > audio.size(), true);
        QTRY_VERIFY(m_fake->connections().at(1).audio.endsWith(audio.right(kFrameBytes)));
        // The first connection got a prefix; the second starts at the end of the
        // last is_final span (inside what the first had) and runs to the end.
        const QByteArray first = m_fake->connections().at(0).audio;
        const QByteArray second = m_fake->connections().at(1).audio;
        QVERIFY(audio.startsWith(first));
        QCOMPARE(second, audio.right(second.size()));
        QVERIFY2(second.size() > audio.size() - first.size(), "the audio since the last final was re-sent");
        QVERIFY2(second.size() < audio.size() - silence(300).size(), "audio already final was not re-sent");
    }

    void dropBetweenUtterances()
    {
        FakeDeepgram::Faults faults;
        faults.dropAfterUtterances = 1;
        m_fake->setFaults(faults);
        m_fake->addTranscript(QStringLiteral("Where is the clinic?"));
        m_fake->addTranscript(QStringLiteral("Do you do teeth whitening?"));
        auto stt = recognizer(settings());
        Events events(stt.get());
        Feeder feeder(stt.get(), utterance(QStringLiteral("Where is the clinic?"))
                                     + utterance(QStringLiteral("Do you do teeth whitening?")));
        QTRY_COMPARE_WITH_TIMEOUT(events.finals.size(), 2, 20000);
        QCOMPARE(events.finals, (QStringList{QStringLiteral("Where is the clinic?"), QStringLiteral("Do you do teeth whitening?")}));
        QCOMPARE(m_fake->connectionCount(), 2);
        QCOMPARE(events.count(QStringLiteral("end")), 2);
        QVERIFY(events.failures.isEmpty());
    }

    void stopFinalizesAndCloses()
    {
        m_fake->addTranscript(QStringLiteral("Is there an emergency number?"));
        auto stt = recognizer(settings());
        Events events(stt.get());
        const QByteArray audio = silence(300) + speech(QStringLiteral("Is there an emergency number?"));
        Feeder feeder(stt.get(), audio);
        feeder.stopAt(silence(300).size() + 8000); // hang up a second into the speech
        QTRY_VERIFY_WITH_TIMEOUT(events.count(QStringLiteral("partial:")) >= 1, 10000);
        QTRY_COMPARE(feeder.pushedBytes(), silence(300).size() + 8000);
        stt->stop();
        const int before = int(events.list.size());
        stt.reset(); // the pipeline deletes it at once; the close must still complete
        QTRY_COMPARE(m_fake->textMessageCount(QStringLiteral("CloseStream")), 1);
        const QStringList texts = m_fake->connections().first().textMessages;
        QCOMPARE(texts.filter(QStringLiteral("Finalize")).size(), 1);
        QVERIFY(texts.indexOf(QStringLiteral(R"({"type":"Finalize"})")) < texts.indexOf(QStringLiteral(R"({"type":"CloseStream"})")));
        QTRY_COMPARE(m_fake->openConnectionCount(), 0);
        QCOMPARE(m_fake->sentMessageCount(QStringLiteral("Metadata")), 1);
        QCOMPARE(m_fake->connections().first().serverCloseCode, 1000);
        QVERIFY(m_fake->connections().first().sentMessages.join(u'\n').contains(QLatin1String("\"from_finalize\":true")));
        QCOMPARE(int(events.list.size()), before);
    }

    void badKeyFailsClearly()
    {
        DeepgramSettings s = settings();
        s.apiKey = QStringLiteral("not-the-key");
        auto stt = recognizer(s);
        Events events(stt.get());
        stt->pushMulaw(silence(20));
        QTRY_COMPARE(events.failures.size(), 1);
        QVERIFY2(events.failures.first().contains(QLatin1String("rejected the key (401)")), qPrintable(events.failures.first()));
        QVERIFY(!events.failures.first().contains(QLatin1String("not-the-key")));
        QCOMPARE(m_fake->handshakeCount(), 1); // a wrong key is not retried
        QCOMPARE(m_fake->connections().first().refusedWithStatus, 401);
        QCOMPARE(m_fake->connectionCount(), 0);
        QCOMPARE(events.list.size(), 1);
    }

    void serverErrorsAreRetriedThenFail()
    {
        FakeDeepgram::Faults faults;
        faults.refuseHandshakeStatus = 503;
        m_fake->setFaults(faults);
        DeepgramSettings s = settings();
        s.reconnectAttempts = 2;
        auto stt = recognizer(s);
        Events events(stt.get());
        QTRY_COMPARE_WITH_TIMEOUT(events.failures.size(), 1, 10000);
        QCOMPARE(m_fake->handshakeCount(), 3); // the first try and two reconnects
        QVERIFY2(events.failures.first().contains(QLatin1String("503")), qPrintable(events.failures.first()));
    }

    void undecodableAudioFails()
    {
        FakeDeepgram::Faults faults;
        faults.undecodableAudio = true;
        m_fake->setFaults(faults);
        auto stt = recognizer(settings());
        Events events(stt.get());
        stt->pushMulaw(silence(20));
        QTRY_COMPARE(events.failures.size(), 1);
        QVERIFY2(events.failures.first().contains(QLatin1String("DATA-0000")), qPrintable(events.failures.first()));
        QCOMPARE(m_fake->handshakeCount(), 1); // reconnecting would not make the audio decodable
    }

    void linear16Option()
    {
        const QString text = QStringLiteral("Do you treat children?");
        m_fake->addTranscript(text);
        DeepgramSettings s = settings();
        s.encoding = QStringLiteral("linear16");
        auto stt = recognizer(s);
        Events events(stt.get());
        const QByteArray audio = utterance(text);
        Feeder feeder(stt.get(), audio);
        QTRY_COMPARE_WITH_TIMEOUT(events.finals.size(), 1, 15000);
        QCOMPARE(events.finals.first(), text);
        QCOMPARE(m_fake->connections().first().query.queryItemValue(QStringLiteral("encoding")), QStringLiteral("linear16"));
        QTRY_COMPARE(m_fake->allAudio().size(), audio.size() * 2);
        const QVector<std::int16_t> pcm = audio::g711::decodeMulaw(audio);
        QByteArray expected(pcm.size() * 2, Qt::Uninitialized);
        qToLittleEndian<std::int16_t>(pcm.constData(), pcm.size(), expected.data());
        QVERIFY(m_fake->allAudio() == expected);
    }
};

QTEST_GUILESS_MAIN(TestDeepgram)
#include "test_deepgram.moc"
