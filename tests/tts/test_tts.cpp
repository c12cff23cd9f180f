#include "audio/g711.h"
#include "audio/vad.h"
#include "tts/embedded/embeddedsynthesizer.h"

#include <QSignalSpy>
#include <QTest>

#include "audiomeasure.h"
#include <QThread>

#include <memory>

using namespace apex;

namespace {

constexpr int kTimeoutMs = 60000;

struct Collected
{
    QByteArray audio;
    int chunks = 0;
    bool finished = false;
    QString failure;
};

// Runs one job to its end on this thread's event loop.
Collected runJob(SpeechSynthesizer &synth, const SynthesisRequest &request)
{
    Collected result;
    QObject owner;
    SynthesisJob *job = synth.synthesize(request, &owner);
    QObject::connect(job, &SynthesisJob::audio, &owner, [&](const QByteArray &a) {
        result.audio += a;
        ++result.chunks;
    });
    QObject::connect(job, &SynthesisJob::finished, &owner, [&] { result.finished = true; });
    QObject::connect(job, &SynthesisJob::failed, &owner, [&](const QString &r) { result.failure = r; });
    (void)QTest::qWaitFor([&] { return result.finished || !result.failure.isEmpty(); }, kTimeoutMs);
    return result;
}

double seconds(const QByteArray &mulaw)
{
    return double(mulaw.size()) / 8000.0;
}

using apex::test::loudness;

// Jobs made and collected on another thread, as an engine thread would.
class RemoteClient : public QObject
{
    Q_OBJECT
public:
    explicit RemoteClient(SpeechSynthesizer *synth) : m_synth(synth) {}

    void start(int jobs)
    {
        m_pending = jobs;
        for (int i = 0; i < jobs; ++i) {
            const SynthesisRequest request{QStringLiteral("Your table for %1 is confirmed.").arg(i + 2),
                                           i % 2 ? QStringLiteral("kal") : QStringLiteral("slt"),
                                           i % 3 == 2 ? QStringLiteral("hi") : QStringLiteral("en")};
            SynthesisJob *job = m_synth->synthesize(request, this);
            if (job->thread() != QThread::currentThread())
                m_wrongThread = true;
            connect(job, &SynthesisJob::audio, this, [this](const QByteArray &a) { m_bytes += a.size(); });
            connect(job, &SynthesisJob::finished, this, [this, job] {
                if (QThread::currentThread() != thread())
                    m_wrongThread = true;
                job->deleteLater();
                if (--m_pending == 0)
                    Q_EMIT allDone(m_bytes, m_wrongThread);
            });
        }
    }

Q_SIGNALS:
    void allDone(qint64 bytes, bool wrongThread);

private:
    SpeechSynthesizer *m_synth;
    int m_pending = 0;
    qint64 m_bytes = 0;
    bool m_wrongThread = false;
};

} // namespace

class TestTts : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<EmbeddedSynthesizer> m_synth;

    // The engine threads are FIFO: when a job submitted later finishes, every
    // signal an earlier job on the same engine could send has been delivered.
    void drain(const SynthesisRequest &sameEngine)
    {
        const Collected barrier = runJob(*m_synth, sameEngine);
        QVERIFY(barrier.finished);
    }

private Q_SLOTS:
    void init() { m_synth = std::make_unique<EmbeddedSynthesizer>(); }
    void cleanup() { m_synth.reset(); }

    void routing()
    {
        using E = EmbeddedSynthesizer::Engine;
        auto r = EmbeddedSynthesizer::route({QString(), QStringLiteral("awb"), QStringLiteral("en")});
        QCOMPARE(r.engine, E::Flite);
        QCOMPARE(r.voice, QStringLiteral("awb"));
        r = EmbeddedSynthesizer::route({QString(), QString(), QString()});
        QCOMPARE(r.engine, E::Flite);
        QCOMPARE(r.voice, QStringLiteral("slt"));
        r = EmbeddedSynthesizer::route({QString(), QStringLiteral("en-US-JennyNeural"), QStringLiteral("en-US")});
        QCOMPARE(r.engine, E::Flite);
        QCOMPARE(r.voice, QStringLiteral("slt"));
        r = EmbeddedSynthesizer::route({QString(), QStringLiteral("slt"), QStringLiteral("hi")});
        QCOMPARE(r.engine, E::Espeak);
        QCOMPARE(r.voice, QStringLiteral("hi"));
        r = EmbeddedSynthesizer::route({QString(), QString(), QStringLiteral("hi-IN")});
        QCOMPARE(r.engine, E::Espeak);
        QCOMPARE(r.voice, QStringLiteral("hi"));
        r = EmbeddedSynthesizer::route({QString(), QStringLiteral("espeak:hi"), QStringLiteral("en")});
        QCOMPARE(r.engine, E::Espeak);
        QCOMPARE(r.voice, QStringLiteral("hi"));
        QVERIFY(m_synth->supports({QStringLiteral("x"), QStringLiteral("kal"), QStringLiteral("en")}));
        QVERIFY(m_synth->supports({QStringLiteral("x"), QString(), QStringLiteral("ta")}));
        QVERIFY(!m_synth->supports({QStringLiteral("x"), QString(), QStringLiteral("tlh")}));
        QCOMPARE(m_synth->name(), QStringLiteral("embedded"));
    }

    void fliteVoice_data()
    {
        QTest::addColumn<QString>("voice");
        for (const QString &voice : EmbeddedSynthesizer::fliteVoices())
            QTest::newRow(qPrintable(voice)) << voice;
    }

    void fliteVoice()
    {
        QFETCH(QString, voice);
        const Collected result =
            runJob(*m_synth, {QStringLiteral("We are open Monday to Saturday."), voice, QStringLiteral("en")});
        QVERIFY2(result.finished, qPrintable(result.failure));
        const double duration = seconds(result.audio);
        QVERIFY2(duration > 1.0 && duration < 6.0, qPrintable(QString::number(duration)));
        const auto [loudest, voicedShare] = loudness(result.audio);
        QVERIFY2(loudest > -25.0, qPrintable(QString::number(loudest)));
        QVERIFY2(voicedShare > 0.3, qPrintable(QString::number(voicedShare)));
        qInfo("%s: %.2f s in %d chunks, loudest frame %.1f dBFS", qPrintable(voice), duration, result.chunks, loudest);
    }

    void espeakHindi()
    {
        const Collected result = runJob(
            *m_synth, {QStringLiteral("हम सोमवार से शनिवार तक खुले हैं।"), QString(), QStringLiteral("hi")});
        QVERIFY2(result.finished, qPrintable(result.failure));
        const double duration = seconds(result.audio);
        QVERIFY2(duration > 1.0 && duration < 8.0, qPrintable(QString::number(duration)));
        QVERIFY(loudness(result.audio).first > -25.0);
        qInfo("hi: %.2f s in %d chunks", duration, result.chunks);
    }

    void espeakExplicitVoice()
    {
        const Collected result =
            runJob(*m_synth, {QStringLiteral("Good morning."), QStringLiteral("espeak:en-us"), QStringLiteral("en")});
        QVERIFY2(result.finished, qPrintable(result.failure));
        QVERIFY(seconds(result.audio) > 0.4);
    }

    void unknownEspeakVoiceFails()
    {
        const Collected result =
            runJob(*m_synth, {QStringLiteral("Hello."), QStringLiteral("espeak:no-such-voice"), QStringLiteral("en")});
        QVERIFY(!result.finished);
        QVERIFY(!result.failure.isEmpty());
    }

    void emptyTextFinishesWithoutAudio_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << QString();
        QTest::newRow("whitespace") << QStringLiteral("  \n\t ");
    }

    void emptyTextFinishesWithoutAudio()
    {
        QFETCH(QString, text);
        QObject owner;
        SynthesisJob *job = m_synth->synthesize({text, QStringLiteral("slt"), QStringLiteral("en")}, &owner);
        QSignalSpy audio(job, &SynthesisJob::audio);
        QSignalSpy finished(job, &SynthesisJob::finished);
        QVERIFY(finished.wait(kTimeoutMs));
        QCOMPARE(audio.count(), 0);
        QCOMPARE(finished.count(), 1);
    }

    void cancelBeforeCompletionSendsNothing_data()
    {
        QTest::addColumn<QString>("language");
        QTest::newRow("flite") << QStringLiteral("en");
        QTest::newRow("espeak") << QStringLiteral("hi");
    }

    void cancelBeforeCompletionSendsNothing()
    {
        QFETCH(QString, language);
        QObject owner;
        SynthesisJob *job = m_synth->synthesize(
            {QStringLiteral("Thank you for calling, how can I help you today?"), QString(), language}, &owner);
        QSignalSpy audio(job, &SynthesisJob::audio);
        QSignalSpy finished(job, &SynthesisJob::finished);
        QSignalSpy failed(job, &SynthesisJob::failed);
        job->cancel();
        drain({QStringLiteral("Done."), QString(), language});
        QCoreApplication::processEvents();
        QCOMPARE(audio.count(), 0);
        QCOMPARE(finished.count(), 0);
        QCOMPARE(failed.count(), 0);
    }

    void cancelMidStreamStopsSignals()
    {
        QObject owner;
        SynthesisJob *job = m_synth->synthesize(
            {QStringLiteral("This is a rather long sentence about opening hours, parking, and the menu, "
                            "spoken slowly so that it is still being synthesised when we cancel it."),
             QStringLiteral("awb"), QStringLiteral("en")},
            &owner);
        QSignalSpy audio(job, &SynthesisJob::audio);
        QSignalSpy finished(job, &SynthesisJob::finished);
        QVERIFY(audio.wait(kTimeoutMs));
        job->cancel();
        const auto chunksAtCancel = audio.count();
        drain({QStringLiteral("Done."), QStringLiteral("awb"), QStringLiteral("en")});
        QCoreApplication::processEvents();
        QCOMPARE(audio.count(), chunksAtCancel);
        QCOMPARE(finished.count(), 0);
    }

    void deleteJobMidWork_data()
    {
        QTest::addColumn<QString>("language");
        QTest::newRow("flite") << QStringLiteral("en");
        QTest::newRow("espeak") << QStringLiteral("hi");
    }

    void deleteJobMidWork()
    {
        QFETCH(QString, language);
        const QString text = QStringLiteral("Please hold while I check the reservation book for tonight and tomorrow.");
        // Deleted before the worker starts, and after it has begun streaming.
        delete m_synth->synthesize({text, QString(), language}, nullptr);
        SynthesisJob *job = m_synth->synthesize({text, QString(), language}, nullptr);
        QSignalSpy audio(job, &SynthesisJob::audio);
        QVERIFY(audio.wait(kTimeoutMs));
        delete job;
        drain({QStringLiteral("Done."), QString(), language});
    }

    void destroyWithWorkQueued()
    {
        QObject owner;
        for (int i = 0; i < 5; ++i) {
            m_synth->synthesize({QStringLiteral("A sentence that will never be heard, number %1.").arg(i), QString(),
                                 i % 2 ? QStringLiteral("hi") : QStringLiteral("en")},
                                &owner);
        }
        m_synth.reset(); // joins both threads; the queued work is dropped
        QCoreApplication::processEvents();
    }

    void jobsFromAnotherThread()
    {
        QThread thread;
        thread.setObjectName(QStringLiteral("test-engine"));
        auto *client = new RemoteClient(m_synth.get());
        client->moveToThread(&thread);
        connect(&thread, &QThread::finished, client, &QObject::deleteLater);
        QSignalSpy done(client, &RemoteClient::allDone);
        thread.start();
        QMetaObject::invokeMethod(client, [client] { client->start(6); });
        QVERIFY(done.wait(kTimeoutMs));
        QVERIFY(done.at(0).at(0).toLongLong() > 6 * 8000);
        QVERIFY(!done.at(0).at(1).toBool());
        thread.quit();
        thread.wait();
    }

    void blockingHelper()
    {
        QString error;
        const QByteArray english = EmbeddedSynthesizer::synthesizeBlocking(
            {QStringLiteral("What time do you open on Sunday?"), QStringLiteral("rms"), QStringLiteral("en")}, &error);
        QVERIFY2(!english.isEmpty(), qPrintable(error));
        QVERIFY(seconds(english) > 1.0);
        const QByteArray hindi = EmbeddedSynthesizer::synthesizeBlocking(
            {QStringLiteral("नमस्ते"), QString(), QStringLiteral("hi")}, &error);
        QVERIFY2(!hindi.isEmpty(), qPrintable(error));
        QVERIFY(EmbeddedSynthesizer::synthesizeBlocking({QStringLiteral(" "), QString(), QString()}).isEmpty());
        QVERIFY(EmbeddedSynthesizer::synthesizeBlocking({QStringLiteral("Hi."), QStringLiteral("espeak:nope"), QString()},
                                                        &error)
                    .isEmpty());
        QVERIFY(!error.isEmpty());
    }

    void blockingHelperWithoutSynthesizer()
    {
        // Engines come up for the call and go down after it, twice in a row.
        m_synth.reset();
        for (int i = 0; i < 2; ++i) {
            QVERIFY(!EmbeddedSynthesizer::synthesizeBlocking({QStringLiteral("नमस्ते"), QString(), QStringLiteral("hi")})
                         .isEmpty());
            QVERIFY(!EmbeddedSynthesizer::synthesizeBlocking({QStringLiteral("Hello."), QString(), QStringLiteral("en")})
                         .isEmpty());
        }
    }

    void veryLongTextIsCapped()
    {
        QString text;
        while (text.size() < 6000)
            text += QStringLiteral("We are open every day. ");
        QElapsedTimer timer;
        timer.start();
        const Collected result = runJob(*m_synth, {text, QStringLiteral("kal"), QStringLiteral("en")});
        QVERIFY2(result.finished, qPrintable(result.failure));
        // 2000 characters is about two minutes of speech; 6000 would be six.
        const double duration = seconds(result.audio);
        QVERIFY2(duration > 60.0 && duration < 200.0, qPrintable(QString::number(duration)));
        qInfo("capped text: %.1f s of audio in %lld ms", duration, timer.elapsed());
    }
};

QTEST_GUILESS_MAIN(TestTts)
#include "test_tts.moc"
