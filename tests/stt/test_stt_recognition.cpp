#include "audio/g711.h"
#include "audio/resampler.h"
#include "stt/pocketsphinx/pocketsphinxmodelpool.h"
#include "stt/pocketsphinx/pocketsphinxrecognizer.h"
#include "stt/pocketsphinx/pocketsphinxrecognizerfactory.h"
#include "stt/pocketsphinx/pocketsphinxtranscriber.h"
#include "tenancy/tenant.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <cmath>

extern "C" {
#include <flite/flite.h>
cst_voice *register_cmu_us_slt(const char *voxdir);
}

using namespace apex;

namespace {

constexpr int kFrameBytes = 160; // 20 ms of 8 kHz mu-law

struct Question
{
    const char *text;
    QStringList keyWords; // any one of them in the transcript counts as understood
};

const QList<Question> &questions()
{
    static const QList<Question> list = {
        {"What are your opening hours?", {QStringLiteral("hours")}},
        {"Where is the clinic?", {QStringLiteral("clinic")}},
        {"How much does a cleaning cost?", {QStringLiteral("cleaning"), QStringLiteral("cost")}},
        {"Do you have parking?", {QStringLiteral("parking")}},
        {"Are you open on Saturday?", {QStringLiteral("saturday")}},
        {"Do you accept insurance?", {QStringLiteral("insurance")}},
        {"Can I book an appointment?", {QStringLiteral("appointment"), QStringLiteral("book")}},
        {"Do you treat children?", {QStringLiteral("children")}},
    };
    return list;
}

Tenant clinicTenant(const QString &id = QStringLiteral("clinic"))
{
    Tenant tenant;
    tenant.id = id;
    tenant.endpointingMs = 250;
    const QStringList faq = {
        QStringLiteral("What are your opening hours?"),
        QStringLiteral("Where is the clinic?"),
        QStringLiteral("How much does a cleaning cost?"),
        QStringLiteral("Do you have parking?"),
        QStringLiteral("Are you open on Saturday?"),
        QStringLiteral("Do you accept insurance?"),
        QStringLiteral("Can I book an appointment?"),
        QStringLiteral("Do you treat children?"),
        QStringLiteral("How do I cancel my appointment?"),
        QStringLiteral("Is there an emergency number?"),
        QStringLiteral("Do you do teeth whitening?"),
    };
    for (const QString &question : faq)
        tenant.faq.append(FaqEntry{question, QStringLiteral("An answer."), {}});
    return tenant;
}

// Speech as a phone call carries it: flite (16 kHz) -> 8 kHz -> mu-law.
QByteArray synthesizeMulaw(const QString &text)
{
    static cst_voice *voice = [] {
        flite_init();
        return register_cmu_us_slt(nullptr);
    }();
    cst_wave *wave = flite_text_to_wave(text.toUtf8().constData(), voice);
    const std::span<const std::int16_t> pcm(wave->samples, size_t(wave->num_samples));
    const QVector<std::int16_t> pcm8k = audio::Resampler::convert(pcm, wave->sample_rate, 8000);
    delete_wave(wave);
    return audio::g711::encodeMulaw(pcm8k);
}

// Line noise, well under the VAD's absolute floor.
QByteArray silenceMulaw(int ms)
{
    QVector<std::int16_t> pcm(ms * 8);
    for (auto &sample : pcm)
        sample = std::int16_t(QRandomGenerator::global()->bounded(-20, 21));
    return audio::g711::encodeMulaw(pcm);
}

QByteArray toneMulaw(int ms)
{
    QVector<std::int16_t> pcm(ms * 8);
    for (int i = 0; i < pcm.size(); ++i)
        pcm[i] = std::int16_t(8000 * std::sin(2 * M_PI * 300 * i / 8000.0));
    return audio::g711::encodeMulaw(pcm);
}

void pushFrames(SpeechRecognizer &recognizer, const QByteArray &mulaw)
{
    for (qsizetype offset = 0; offset < mulaw.size(); offset += kFrameBytes)
        recognizer.pushMulaw(QByteArrayView(mulaw).sliced(offset, std::min<qsizetype>(kFrameBytes, mulaw.size() - offset)));
}

bool containsAny(const QString &transcript, const QStringList &words)
{
    const QStringList heard = transcript.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (const QString &word : words) {
        if (heard.contains(word))
            return true;
    }
    return false;
}

// The previous test's calls give their decoders back on their worker's time,
// which under load can be after this test has counted the idle ones: wait
// until the count has held still for a quarter of a second.
int settledIdleDecoders(const PocketsphinxModelPool &pool)
{
    int last = -1;
    for (int steady = 0, round = 0; steady < 5 && round < 400; ++round) {
        QTest::qWait(50);
        const int now = pool.idleDecoders();
        steady = (now == last && now >= 1) ? steady + 1 : 0;
        last = now;
    }
    return last;
}

} // namespace

class TestSttRecognition : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<PocketsphinxRecognizerFactory> m_factory;
    Tenant m_tenant = clinicTenant();

private Q_SLOTS:
    void initTestCase()
    {
        PocketsphinxRecognizerFactory::Settings settings;
        settings.workerThreads = 2;
        m_factory = std::make_unique<PocketsphinxRecognizerFactory>(settings);
        QElapsedTimer timer;
        timer.start();
        m_factory->prepareTenant(m_tenant);
        qInfo("prepareTenant (cmudict + LM + one decoder): %lld ms", timer.elapsed());
        QCOMPARE(m_factory->poolFor(m_tenant)->idleDecoders(), 1);
    }

    void cleanupTestCase()
    {
        m_factory.reset();
    }

    void recognisesFaqQuestions()
    {
        int understood = 0;
        double audioSeconds = 0;
        for (const Question &question : questions()) {
            const QByteArray speech = synthesizeMulaw(QString::fromLatin1(question.text));
            audioSeconds += speech.size() / 8000.0;
            auto recognizer = m_factory->create(m_tenant, QStringLiteral("CA-test"));
            QSignalSpy started(recognizer.get(), &SpeechRecognizer::speechStarted);
            QSignalSpy ended(recognizer.get(), &SpeechRecognizer::endOfSpeech);
            QSignalSpy finals(recognizer.get(), &SpeechRecognizer::finalTranscript);
            pushFrames(*recognizer, silenceMulaw(400) + speech + silenceMulaw(800));
            QCOMPARE(started.count(), 1);
            QCOMPARE(ended.count(), 1);
            QTRY_COMPARE_WITH_TIMEOUT(finals.count(), 1, 15000);
            const QString transcript = finals.first().first().toString();
            const bool ok = containsAny(transcript, question.keyWords);
            understood += ok ? 1 : 0;
            qInfo("%s %-34s -> \"%s\"", ok ? "ok  " : "MISS", question.text, qPrintable(transcript));
        }
        qInfo("understood %d of %d questions (%.1f s of speech)", understood, int(questions().size()), audioSeconds);
        QVERIFY2(understood * 4 >= questions().size() * 3, "fewer than 3 in 4 FAQ questions understood");
    }

    void streamsInRealTime()
    {
        auto recognizer = m_factory->create(m_tenant, QStringLiteral("CA-test"));
        QStringList events;
        connect(recognizer.get(), &SpeechRecognizer::speechStarted, this, [&] { events << QStringLiteral("started"); });
        connect(recognizer.get(), &SpeechRecognizer::partialTranscript, this,
                [&](const QString &text) { events << QStringLiteral("partial:") + text; });
        connect(recognizer.get(), &SpeechRecognizer::endOfSpeech, this, [&] { events << QStringLiteral("end"); });
        connect(recognizer.get(), &SpeechRecognizer::finalTranscript, this,
                [&](const QString &text) { events << QStringLiteral("final:") + text; });

        const QByteArray audio = silenceMulaw(300) + synthesizeMulaw(QStringLiteral("How much does a cleaning cost?"))
            + silenceMulaw(600);
        qsizetype offset = 0;
        QTimer pacer;
        pacer.setTimerType(Qt::PreciseTimer);
        connect(&pacer, &QTimer::timeout, this, [&] {
            if (offset >= audio.size()) {
                pacer.stop();
                return;
            }
            recognizer->pushMulaw(QByteArrayView(audio).sliced(offset, std::min<qsizetype>(kFrameBytes, audio.size() - offset)));
            offset += kFrameBytes;
        });
        pacer.start(20);
        QTRY_VERIFY_WITH_TIMEOUT(!events.isEmpty() && events.last().startsWith(QLatin1String("final:")), 15000);
        qInfo("events: %s", qPrintable(events.join(QStringLiteral(" | "))));

        QCOMPARE(events.first(), QStringLiteral("started"));
        QCOMPARE(events.filter(QStringLiteral("final:")).size(), 1);
        const qsizetype end = events.indexOf(QStringLiteral("end"));
        QVERIFY(end > 0);
        QCOMPARE(end, events.size() - 2); // partials only before the end of speech
        QVERIFY2(!events.filter(QStringLiteral("partial:")).isEmpty(), "no partial transcript while speaking");
        for (qsizetype i = 2; i < end; ++i)
            QVERIFY(events.at(i) != events.at(i - 1)); // partials only when the text changes
    }

    void silenceIsNotSpeech()
    {
        auto recognizer = m_factory->create(m_tenant, QStringLiteral("CA-test"));
        QSignalSpy started(recognizer.get(), &SpeechRecognizer::speechStarted);
        QSignalSpy ended(recognizer.get(), &SpeechRecognizer::endOfSpeech);
        QSignalSpy finals(recognizer.get(), &SpeechRecognizer::finalTranscript);
        QSignalSpy partials(recognizer.get(), &SpeechRecognizer::partialTranscript);
        pushFrames(*recognizer, silenceMulaw(3000));
        QCoreApplication::processEvents();
        // VAD events are synchronous and nothing was sent to the worker.
        QCOMPARE(started.count(), 0);
        QCOMPARE(ended.count(), 0);
        QCOMPARE(finals.count(), 0);
        QCOMPARE(partials.count(), 0);
    }

    void stopMidUtteranceSilencesEverything()
    {
        const auto pool = m_factory->poolFor(m_tenant);
        const int idleBefore = settledIdleDecoders(*pool);
        QVERIFY(idleBefore >= 1);

        auto recognizer = m_factory->create(m_tenant, QStringLiteral("CA-test"));
        QSignalSpy started(recognizer.get(), &SpeechRecognizer::speechStarted);
        QSignalSpy partials(recognizer.get(), &SpeechRecognizer::partialTranscript);
        QSignalSpy ended(recognizer.get(), &SpeechRecognizer::endOfSpeech);
        QSignalSpy finals(recognizer.get(), &SpeechRecognizer::finalTranscript);
        QSignalSpy failures(recognizer.get(), &SpeechRecognizer::failed);

        const QByteArray speech = synthesizeMulaw(QStringLiteral("What are your opening hours?"));
        pushFrames(*recognizer, silenceMulaw(300) + speech.left(speech.size() / 2));
        QCOMPARE(started.count(), 1);
        QTRY_COMPARE(pool->idleDecoders(), idleBefore - 1); // the call holds a decoder

        recognizer->stop();
        const int partialsAtStop = int(partials.count());
        pushFrames(*recognizer, speech.mid(speech.size() / 2) + silenceMulaw(800));
        // The worker returns the decoder when it is gone: after that nothing can arrive.
        QTRY_COMPARE(pool->idleDecoders(), idleBefore);
        QCoreApplication::processEvents();
        QCOMPARE(partials.count(), partialsAtStop);
        QCOMPARE(ended.count(), 0);
        QCOMPARE(finals.count(), 0);
        QCOMPARE(failures.count(), 0);
        recognizer.reset();
    }

    void deleteWhileDecodingReturnsTheDecoder()
    {
        const auto pool = m_factory->poolFor(m_tenant);
        const int idleBefore = settledIdleDecoders(*pool);
        QVERIFY(idleBefore >= 1);
        const int createdBefore = pool->decodersCreated();
        {
            auto recognizer = m_factory->create(m_tenant, QStringLiteral("CA-test"));
            QSignalSpy ended(recognizer.get(), &SpeechRecognizer::endOfSpeech);
            pushFrames(*recognizer, silenceMulaw(300) + synthesizeMulaw(QStringLiteral("Do you have parking?"))
                                        + silenceMulaw(600));
            QCOMPARE(ended.count(), 1); // the final is still being decoded
        }
        QTRY_COMPARE(pool->idleDecoders(), idleBefore);
        QCOMPARE(pool->decodersCreated(), createdBefore);
    }

    void longSpeechIsCut()
    {
        PocketsphinxRecognizer::Settings settings = PocketsphinxRecognizer::settingsFor(m_tenant);
        settings.maxUtteranceMs = 1000;
        auto recognizer = m_factory->createRecognizer(m_tenant, settings);
        QSignalSpy started(recognizer.get(), &SpeechRecognizer::speechStarted);
        QSignalSpy ended(recognizer.get(), &SpeechRecognizer::endOfSpeech);
        QSignalSpy finals(recognizer.get(), &SpeechRecognizer::finalTranscript);
        pushFrames(*recognizer, silenceMulaw(200) + toneMulaw(1600));
        // Cut once while the tone goes on; the rest is an utterance of its own.
        QCOMPARE(ended.count(), 1);
        QCOMPARE(started.count(), 2);
        pushFrames(*recognizer, silenceMulaw(600));
        QCOMPARE(ended.count(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(finals.count(), 2, 10000);
    }

    void unpreparedTenantIsPreparedOnTheWorker()
    {
        const Tenant fresh = clinicTenant(QStringLiteral("lazy-clinic"));
        auto recognizer = m_factory->create(fresh, QStringLiteral("CA-lazy"));
        QSignalSpy finals(recognizer.get(), &SpeechRecognizer::finalTranscript);
        QSignalSpy failures(recognizer.get(), &SpeechRecognizer::failed);
        pushFrames(*recognizer, silenceMulaw(300) + synthesizeMulaw(QStringLiteral("Do you treat children?"))
                                    + silenceMulaw(600));
        QTRY_COMPARE_WITH_TIMEOUT(finals.count(), 1, 20000);
        QCOMPARE(failures.count(), 0);
        qInfo("lazy tenant heard: \"%s\"", qPrintable(finals.first().first().toString()));
    }

    void transcriberReadsTheAgentsReply()
    {
        const QStringList answers = {
            QStringLiteral("We are open from nine to five, Monday to Friday."),
            QStringLiteral("The clinic is at 12 Main Street, next to the pharmacy."),
            QStringLiteral("Yes, there is free parking behind the building."),
            QStringLiteral("A cleaning costs eighty dollars."),
        };
        PocketsphinxTranscriber transcriber(answers);
        QVERIFY2(transcriber.isValid(), qPrintable(transcriber.errorString()));

        double audio = 0;
        double decode = 0;
        int hits = 0;
        const QList<QPair<QString, QString>> cases = {
            {answers[0], QStringLiteral("open")},
            {answers[1], QStringLiteral("pharmacy")},
            {answers[2], QStringLiteral("parking")},
            {answers[3], QStringLiteral("cleaning")},
        };
        for (const auto &[sentence, keyWord] : cases) {
            const auto result = transcriber.transcribeMulaw(silenceMulaw(200) + synthesizeMulaw(sentence) + silenceMulaw(200));
            QVERIFY2(result.error.isEmpty(), qPrintable(result.error));
            audio += result.audioSeconds;
            decode += result.decodeSeconds;
            const bool ok = result.text.split(QLatin1Char(' ')).contains(keyWord);
            hits += ok ? 1 : 0;
            qInfo("%s \"%s\" -> \"%s\"", ok ? "ok  " : "MISS", qPrintable(sentence), qPrintable(result.text));
        }
        qInfo("transcriber: %.1f s of audio in %.2f s: real-time factor %.3f", audio, decode, decode / audio);
        QVERIFY(hits >= 3);
        QVERIFY(decode < audio); // faster than real time, or calls would queue up
    }
};

QTEST_GUILESS_MAIN(TestSttRecognition)
#include "test_stt_recognition.moc"
