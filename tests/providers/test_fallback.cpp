#include "stagefakes.h"

#include "providers/providerrouting.h"
#include "providers/fallbackrecognizer.h"
#include "providers/fallbackresponder.h"
#include "providers/fallbacksynthesizer.h"
#include "providers/providergovernor.h"
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
        // The fallback first hears what the primary never answered for.
        QCOMPARE(embedded.last->bytesPushed, 160);
        recognizer->pushMulaw(QByteArray(320, char(0xFF)));
        QCOMPARE(embedded.last->bytesPushed, 160 + 320);
        Q_EMIT embedded.last->finalTranscript(QStringLiteral("hello"));
        QCOMPARE(finals.size(), 1);

        recognizer->stop();
        QVERIFY(embedded.last->stopped);
    }

    // --- governance: breakers, limits and deadlines in the chains ---

    void responderBreakerOpensAfterFiveFailuresAndStopsAskingThePrimary()
    {
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{5, std::chrono::seconds(60)});
        FakeResponderFactory cloud;
        cloud.failure = QStringLiteral("LLM server answered HTTP 500");
        cloud.failureKind = ProviderFailure{FailureKind::ServerError, 500};
        FakeResponderFactory faq;
        FallbackResponderFactory chain(&cloud, &faq, ResponderGovernance{breaker});
        Tenant tenant;
        auto responder = chain.create(tenant);
        for (int turn = 0; turn < 8; ++turn) {
            QSignalSpy finished(responder.get(), &Responder::finished);
            responder->respond(ResponderRequest{QStringLiteral("prompt"), {}, QStringLiteral("turn %1").arg(turn)});
            QVERIFY(finished.wait(2000));
        }
        QCOMPARE(cloud.last->requests.size(), 5); // the breaker refused turns 6 to 8 at no cost
        QCOMPARE(faq.last->requests.size(), 8);   // every turn was answered
        QCOMPARE(breaker->state(), BreakerState::Open);
    }

    void rejectedKeyOpensTheBreakerAtOnce_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("primaryRequests");
        QTest::newRow("401") << 401 << 1;
        QTest::newRow("403") << 403 << 1;
        QTest::newRow("500 counts once") << 500 << 3;
    }
    void rejectedKeyOpensTheBreakerAtOnce()
    {
        QFETCH(int, status);
        QFETCH(int, primaryRequests);
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{5, std::chrono::seconds(60)});
        FakeResponderFactory cloud;
        cloud.failure = QStringLiteral("HTTP %1").arg(status);
        cloud.failureKind = ProviderFailure{failureKindForHttpStatus(status), status};
        FakeResponderFactory faq;
        FallbackResponderFactory chain(&cloud, &faq, ResponderGovernance{breaker});
        auto responder = chain.create(Tenant{});
        for (int turn = 0; turn < 3; ++turn) {
            QSignalSpy finished(responder.get(), &Responder::finished);
            responder->respond(ResponderRequest{{}, {}, QStringLiteral("hello")});
            QVERIFY(finished.wait(2000));
        }
        QCOMPARE(cloud.last->requests.size(), primaryRequests);
    }

    void concurrencyLimitSendsTheOverflowToTheFaqAtOnce()
    {
        AimdLimiter limiter(AimdPolicy{2, 4});
        FakeResponderFactory cloud;
        cloud.firstDelayMs = 200;
        FakeResponderFactory faq;
        faq.firstDelayMs = 0;
        FallbackResponderFactory chain(&cloud, &faq, ResponderGovernance{nullptr, &limiter});
        std::vector<std::unique_ptr<Responder>> calls;
        std::vector<FakeResponder *> primaries, fallbacks;
        for (int i = 0; i < 5; ++i) {
            calls.push_back(chain.create(Tenant{}));
            primaries.push_back(cloud.last);
            fallbacks.push_back(faq.last);
        }
        for (auto &call : calls)
            call->respond(ResponderRequest{{}, {}, QStringLiteral("hours?")});
        int onPrimary = 0, onFallback = 0;
        for (size_t i = 0; i < calls.size(); ++i) {
            onPrimary += int(primaries[i]->requests.size());
            onFallback += int(fallbacks[i]->requests.size());
        }
        QCOMPARE(onPrimary, 2);
        QCOMPARE(onFallback, 3);
        QCOMPARE(limiter.snapshot(AimdLimiter::Clock::now()).inFlight, 2);
        for (auto &call : calls)
            call->cancel(); // a hang-up releases the permits
        QCOMPARE(limiter.snapshot(AimdLimiter::Clock::now()).inFlight, 0);
    }

    void rateLimitHalvesTheLimit()
    {
        AimdLimiter limiter(AimdPolicy{8, 16});
        FakeResponderFactory cloud;
        cloud.failure = QStringLiteral("rate limited (HTTP 429)");
        cloud.failureKind = ProviderFailure{FailureKind::RateLimited, 429, std::chrono::milliseconds(0)};
        FakeResponderFactory faq;
        FallbackResponderFactory chain(&cloud, &faq, ResponderGovernance{nullptr, &limiter});
        auto responder = chain.create(Tenant{});
        QSignalSpy finished(responder.get(), &Responder::finished);
        responder->respond(ResponderRequest{{}, {}, QStringLiteral("hello")});
        QVERIFY(finished.wait(2000));
        QCOMPARE(limiter.snapshot(AimdLimiter::Clock::now()).limit, 4);
        QCOMPARE(faq.last->requests.size(), 1);
    }

    void tenantQuotaSendsTheTenantsOverflowToTheFaq()
    {
        TenantLimit quotas;
        quotas.setQuota(QStringLiteral("busy"), 1);
        FakeResponderFactory cloud;
        cloud.firstDelayMs = 200;
        FakeResponderFactory faq;
        FallbackResponderFactory chain(&cloud, &faq, ResponderGovernance{nullptr, nullptr, &quotas});
        auto first = chain.create(Tenant{});
        first->prepareCall(QStringLiteral("CA1"), QStringLiteral("busy"));
        auto second = chain.create(Tenant{});
        FakeResponder *secondPrimary = cloud.last;
        FakeResponder *secondFaq = faq.last;
        second->prepareCall(QStringLiteral("CA2"), QStringLiteral("busy"));
        auto other = chain.create(Tenant{});
        FakeResponder *otherPrimary = cloud.last;
        other->prepareCall(QStringLiteral("CA3"), QStringLiteral("quiet"));
        first->respond(ResponderRequest{{}, {}, QStringLiteral("a")});
        second->respond(ResponderRequest{{}, {}, QStringLiteral("b")});
        other->respond(ResponderRequest{{}, {}, QStringLiteral("c")});
        QCOMPARE(secondPrimary->requests.size(), 0);
        QCOMPARE(secondFaq->requests.size(), 1);
        QCOMPARE(otherPrimary->requests.size(), 1); // another tenant is not held back
    }

    void slowFirstWordIsAnsweredByTheFallbackAndTheLateAnswerDropped()
    {
        FakeResponderFactory cloud;
        cloud.firstDelayMs = 3000;
        FakeResponderFactory faq;
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{5, std::chrono::seconds(60)});
        FallbackResponderFactory chain(&cloud, &faq, ResponderGovernance{breaker});
        Tenant tenant;
        tenant.silenceBudgetMs = 1200;
        tenant.endpointingMs = 200; // first-word deadline: 1200 - 200 - 700 -> the 300 ms floor
        auto responder = chain.create(tenant);
        QSignalSpy text(responder.get(), &Responder::textDelta);
        QSignalSpy finished(responder.get(), &Responder::finished);
        responder->respond(ResponderRequest{{}, {}, QStringLiteral("hours?")});
        QVERIFY(finished.wait(2000));
        QCOMPARE(faq.last->requests.size(), 1);
        QCOMPARE(cloud.last->cancels, 1);
        const int pieces = int(text.size());
        QTest::qWait(50);
        QCOMPARE(int(text.size()), pieces);
        QCOMPARE(breaker->snapshot().consecutiveFailures, 1);
    }

    void synthesisBreakerOpensAfterThreeAndTheFallbackVoiceSpeaksAtOnce()
    {
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{3, std::chrono::seconds(60)});
        FakeSynthesizer cloud;
        cloud.failure = QStringLiteral("Azure TTS answered HTTP 500");
        cloud.failureKind = ProviderFailure{FailureKind::ServerError, 500};
        FakeSynthesizer embedded;
        FallbackSynthesizer chain(&cloud, &embedded, SynthesisGovernance{breaker});
        for (int i = 0; i < 6; ++i) {
            SynthesisJob *job = chain.synthesize(SynthesisRequest{QStringLiteral("Sentence %1.").arg(i)}, this);
            QSignalSpy finished(job, &SynthesisJob::finished);
            QVERIFY(finished.wait(2000));
        }
        QCOMPARE(cloud.sentences.size(), 3);
        QCOMPARE(embedded.sentences.size(), 6);
        QCOMPARE(breaker->state(), BreakerState::Open);
    }

    void slowFirstAudioIsSpokenByTheFallbackVoice()
    {
        FakeSynthesizer cloud;
        cloud.delayMs = 3000;
        FakeSynthesizer embedded;
        FallbackSynthesizer chain(&cloud, &embedded, SynthesisGovernance{nullptr, 100, 1500});
        SynthesisJob *job = chain.synthesize(SynthesisRequest{QStringLiteral("Hello.")}, this);
        QSignalSpy audio(job, &SynthesisJob::audio);
        QSignalSpy finished(job, &SynthesisJob::finished);
        QVERIFY(finished.wait(2000));
        QCOMPARE(audio.size(), 1);
        QCOMPARE(embedded.sentences, QStringList{QStringLiteral("Hello.")});
    }

    void breakerClosesAgainAfterTheFaultEnds()
    {
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{3, std::chrono::milliseconds(100)});
        FakeSynthesizer cloud;
        cloud.failure = QStringLiteral("HTTP 503");
        cloud.failureKind = ProviderFailure{FailureKind::ServerError, 503};
        FakeSynthesizer embedded;
        FallbackSynthesizer chain(&cloud, &embedded, SynthesisGovernance{breaker});
        auto speak = [&] {
            SynthesisJob *job = chain.synthesize(SynthesisRequest{QStringLiteral("Hi.")}, this);
            QSignalSpy finished(job, &SynthesisJob::finished);
            return finished.wait(2000);
        };
        for (int i = 0; i < 3; ++i)
            QVERIFY(speak());
        QCOMPARE(breaker->state(), BreakerState::Open);
        cloud.failure.clear(); // the fault ends
        QVERIFY(speak());
        QCOMPARE(cloud.sentences.size(), 3); // still open: no request
        QTest::qWait(150);                   // the cool-down passes
        QVERIFY(speak());                    // the half-open probe
        QCOMPARE(cloud.sentences.size(), 4);
        QCOMPARE(breaker->state(), BreakerState::Closed);
    }

    void deafRecognizerIsReplacedAndTheFallbackHearsTheUtterance()
    {
        FakeRecognizerFactory cloud;
        FakeRecognizerFactory embedded;
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{5, std::chrono::seconds(60)});
        FallbackRecognizerFactory chain(&cloud, &embedded, RecognitionGovernance{breaker, 200});
        Tenant tenant;
        tenant.endpointingMs = 200;
        auto recognizer = chain.create(tenant, QStringLiteral("CA1"));
        QSignalSpy ended(recognizer.get(), &SpeechRecognizer::endOfSpeech);
        QSignalSpy finals(recognizer.get(), &SpeechRecognizer::finalTranscript);
        // 1 s of loud tone, then 400 ms of silence; the cloud recognizer says nothing.
        QByteArray speech;
        for (int i = 0; i < 8000; ++i)
            speech.append(char(i % 16 < 8 ? 0x05 : 0x85));
        for (int i = 0; i < 50; ++i)
            recognizer->pushMulaw(QByteArrayView(speech).sliced(i * 160, 160));
        for (int i = 0; i < 20; ++i)
            recognizer->pushMulaw(QByteArray(160, char(0xFF)));
        QTRY_COMPARE_WITH_TIMEOUT(embedded.created, 1, 2000);
        QCOMPARE(embedded.last->bytesPushed, 70 * 160); // the whole utterance, replayed
        QVERIFY(cloud.last.isNull() || cloud.last->stopped);
        QCOMPARE(breaker->snapshot().consecutiveFailures, 1);
        // The turn starts when the deafness is noticed, dated from the caller's
        // last word (endpointing + deadline ago), so the silence budget holds...
        QCOMPARE(ended.size(), 1);
        QCOMPARE(ended.first().first().toLongLong(), 400);
        // ...and the fallback's end of speech for the replay is the same turn.
        Q_EMIT embedded.last->endOfSpeech();
        Q_EMIT embedded.last->finalTranscript(QStringLiteral("hello"));
        QCOMPARE(ended.size(), 1);
        QCOMPARE(finals.size(), 1);
        Q_EMIT embedded.last->endOfSpeech(); // the caller's next utterance
        QCOMPARE(ended.size(), 2);
    }

    void openSttBreakerStartsNewCallsOnTheFallback()
    {
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{1, std::chrono::seconds(60)});
        breaker->recordFailure(breaker->admit(CircuitBreaker::Clock::now()), FailureKind::Unauthorized, {}, CircuitBreaker::Clock::now());
        FakeRecognizerFactory cloud;
        FakeRecognizerFactory embedded;
        FallbackRecognizerFactory chain(&cloud, &embedded, RecognitionGovernance{breaker});
        auto recognizer = chain.create(Tenant{}, QStringLiteral("CA2"));
        QCOMPARE(cloud.created, 0);
        QCOMPARE(embedded.created, 1);
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
