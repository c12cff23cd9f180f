#include "stagefakes.h"

#include "providers/providerrouting.h"
#include "providers/fallbackrecognizer.h"
#include "providers/fallbackresponder.h"
#include "providers/fallbacksynthesizer.h"
#include "tenancy/tenantregistry.h"

#include <QSignalSpy>
#include <QTest>

using namespace apex;
using namespace apex::test;

class TestFallback : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void synthesisFailureBeforeAudioIsSpokenByTheFallback()
    {
        FakeSynthesizer cloud;
        cloud.failure = QStringLiteral("HTTP 503");
        FakeSynthesizer embedded;
        FallbackSynthesizer chain(&cloud, &embedded);
        SynthesisJob *job = chain.synthesize(SynthesisRequest{QStringLiteral("Hello."), QStringLiteral("en-US-JennyNeural"),
                                                              QStringLiteral("en"), QStringLiteral("demo")},
                                             this);
        QSignalSpy audio(job, &SynthesisJob::audio);
        QSignalSpy finished(job, &SynthesisJob::finished);
        QSignalSpy failed(job, &SynthesisJob::failed);
        QVERIFY(finished.wait(2000));
        QCOMPARE(failed.size(), 0);
        QCOMPARE(audio.size(), 1);
        QCOMPARE(cloud.sentences, QStringList{QStringLiteral("Hello.")});
        QCOMPARE(embedded.sentences, QStringList{QStringLiteral("Hello.")});
        QCOMPARE(embedded.requests.first().tenantId, QStringLiteral("demo"));
    }

    void bothFailingIsReported()
    {
        FakeSynthesizer cloud;
        cloud.failure = QStringLiteral("HTTP 401");
        FakeSynthesizer embedded;
        embedded.failure = QStringLiteral("no voice");
        FallbackSynthesizer chain(&cloud, &embedded);
        SynthesisJob *job = chain.synthesize(SynthesisRequest{QStringLiteral("Hi.")}, this);
        QSignalSpy failed(job, &SynthesisJob::failed);
        QVERIFY(failed.wait(2000));
        QCOMPARE(failed.first().first().toString(), QStringLiteral("no voice"));
    }

    void cancelledFallbackJobStaysSilent()
    {
        FakeSynthesizer cloud;
        cloud.failure = QStringLiteral("HTTP 503");
        FakeSynthesizer embedded;
        FallbackSynthesizer chain(&cloud, &embedded);
        SynthesisJob *job = chain.synthesize(SynthesisRequest{QStringLiteral("Hi.")}, this);
        QSignalSpy audio(job, &SynthesisJob::audio);
        QSignalSpy finished(job, &SynthesisJob::finished);
        job->cancel();
        QTest::qWait(50);
        QCOMPARE(audio.size() + finished.size(), 0);
    }

    void responderFailureBeforeTheFirstWordIsAnsweredFromTheFaq()
    {
        FakeResponderFactory cloud;
        cloud.failure = QStringLiteral("429 rate limited");
        FakeResponderFactory faq;
        FallbackResponderFactory chain(&cloud, &faq);
        Tenant tenant;
        auto responder = chain.create(tenant);
        QSignalSpy text(responder.get(), &Responder::textDelta);
        QSignalSpy finished(responder.get(), &Responder::finished);
        QSignalSpy failed(responder.get(), &Responder::failed);
        responder->respond(ResponderRequest{QStringLiteral("prompt"), {}, QStringLiteral("when are you open")});
        QVERIFY(finished.wait(2000));
        QCOMPARE(failed.size(), 0);
        QVERIFY(text.size() >= 1);
        QCOMPARE(faq.last->requests.first().utterance, QStringLiteral("when are you open"));
    }

    void recognizerFailureSwitchesToTheFallbackMidCall()
    {
        FakeRecognizerFactory cloud;
        FakeRecognizerFactory embedded;
        FallbackRecognizerFactory chain(&cloud, &embedded);
        Tenant tenant;
        tenant.id = QStringLiteral("demo");
        auto recognizer = chain.create(tenant, QStringLiteral("CA1"));
        QSignalSpy finals(recognizer.get(), &SpeechRecognizer::finalTranscript);
        QSignalSpy failed(recognizer.get(), &SpeechRecognizer::failed);
        recognizer->pushMulaw(QByteArray(160, char(0xFF)));
        QCOMPARE(cloud.last->bytesPushed, 160);

        Q_EMIT cloud.last->failed(QStringLiteral("Deepgram rejected the key (401)"));
        QCOMPARE(failed.size(), 0);
        QCOMPARE(embedded.created, 1);
        recognizer->pushMulaw(QByteArray(320, char(0xFF)));
        QCOMPARE(embedded.last->bytesPushed, 320);
        Q_EMIT embedded.last->finalTranscript(QStringLiteral("hello"));
        QCOMPARE(finals.size(), 1);

        recognizer->stop();
        QVERIFY(embedded.last->stopped);
    }

    void tenantsAreRoutedToTheirProviders()
    {
        ProviderConfig config;
        config.llmApiKey = QStringLiteral("gsk_x");
        Tenant cloudTenant;
        cloudTenant.id = QStringLiteral("cloud");
        Tenant pinned;
        pinned.id = QStringLiteral("pinned");
        pinned.llmProvider = QStringLiteral("faq");
        pinned.ttsProvider = QStringLiteral("embedded");
        TenantRegistry registry({cloudTenant, pinned}, QString());

        FakeResponderFactory groq;
        FakeResponderFactory faq;
        RoutingResponderFactory responders(config, {{QStringLiteral("groq"), &groq}, {QStringLiteral("faq"), &faq}});
        QCOMPARE(responders.forTenant(cloudTenant), &groq);
        QCOMPARE(responders.forTenant(pinned), &faq);

        FakeSynthesizer embedded;
        RoutingSynthesizer synthesizer(config, &registry, {{QStringLiteral("embedded"), &embedded}});
        // No Azure key: every tenant speaks through the embedded synthesizer.
        QCOMPARE(synthesizer.forTenant(QStringLiteral("cloud")), &embedded);
        QCOMPARE(synthesizer.forTenant(QStringLiteral("nobody")), &embedded);

        FakeRecognizerFactory pocketsphinx;
        RoutingRecognizerFactory recognizers(config, {{QStringLiteral("pocketsphinx"), &pocketsphinx}});
        recognizers.prepareTenant(cloudTenant);
        QCOMPARE(pocketsphinx.prepared, 1);
    }
};

QTEST_GUILESS_MAIN(TestFallback)
#include "test_fallback.moc"
