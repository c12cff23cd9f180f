#include "fakegroq.h"
#include "testsupport.h"

#include "llm/openai/openairesponder.h"
#include "observability/clock.h"
#include "tenancy/providerconfig.h"
#include "tenancy/tenant.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace apex;
using apex::test::FakeGroq;

namespace {

const QString kKey = QStringLiteral("gsk_testkey0123456789abcd");

// What a responder said for one request, in order.
struct Outcome
{
    QStringList deltas;
    int finished = 0;
    QStringList failures;
    int signalsAfterEnd = 0;

    bool done() const { return finished + failures.size() > 0; }
    QString text() const { return deltas.join(QString()); }
    QString failure() const { return failures.value(0); }
};

void record(Responder *r, Outcome &o)
{
    QObject::connect(r, &Responder::textDelta, r, [&o](const QString &t) {
        o.signalsAfterEnd += o.done() ? 1 : 0;
        o.deltas.append(t);
    });
    QObject::connect(r, &Responder::finished, r, [&o] {
        o.signalsAfterEnd += o.done() ? 1 : 0;
        ++o.finished;
    });
    QObject::connect(r, &Responder::failed, r, [&o](const QString &reason) {
        o.signalsAfterEnd += o.done() ? 1 : 0;
        o.failures.append(reason);
    });
}

OpenAiSettings settingsFor(const FakeGroq &fake)
{
    OpenAiSettings s;
    s.baseUrl = fake.baseUrl();
    s.apiKey = kKey;
    s.firstTokenDeadlineMs = 3000;
    s.stallTimeoutMs = 2000;
    return s;
}

ResponderRequest simpleRequest(const QString &utterance = QStringLiteral("When are you open?"))
{
    ResponderRequest r;
    r.systemPrompt = QStringLiteral("You are the receptionist of Sunrise Dental. Answer in one or two short sentences.");
    r.utterance = utterance;
    return r;
}

// Waits for finished/failed, then a little longer so a stray late signal shows.
bool waitDone(const Outcome &o, int timeoutMs = 5000)
{
    QElapsedTimer t;
    t.start();
    while (!o.done() && t.elapsed() < timeoutMs)
        QTest::qWait(5);
    QTest::qWait(30);
    return o.done();
}

} // namespace

class TestGroqResponder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fake.start());
    }

    void init()
    {
        m_fake.setScript(FakeGroq::Script{});
    }

    // Twenty calls asking at once all reach the LLM at once: none waits in our
    // own queue behind another call's request.
    void twentyRequestsAreInFlightAtOnce()
    {
        m_fake.script().fault = FakeGroq::Fault::StallBeforeHeaders;
        m_fake.script().faultTimes = 1000;
        std::vector<std::unique_ptr<OpenAiResponder>> calls;
        for (int i = 0; i < 20; ++i) {
            calls.push_back(std::make_unique<OpenAiResponder>(settingsFor(m_fake)));
            calls.back()->respond(simpleRequest());
        }
        QVERIFY2(QTest::qWaitFor([&] { return m_fake.requests().size() == 20; }, 10000),
                 qPrintable(QStringLiteral("only %1 requests reached the LLM").arg(m_fake.requests().size())));
        QVERIFY(m_fake.openConnections() >= 20);
        for (auto &call : calls)
            call->cancel();
    }

    void streamsTextInOrder()
    {
        m_fake.script().reply = QStringLiteral("We are open Monday to Saturday, from nine to six. Anything else?");
        m_fake.script().tokensPerSecond = 400;
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(o.deltas.isEmpty() && !o.done()); // nothing from inside respond()
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures, QStringList());
        QCOMPARE(o.finished, 1);
        QCOMPARE(o.deltas, FakeGroq::tokenize(m_fake.script().reply));
        QCOMPARE(o.text(), m_fake.script().reply);
        QCOMPARE(o.signalsAfterEnd, 0);

        const LlmTurnStats &s = r.lastStats();
        QVERIFY(s.requestNs > 0);
        QVERIFY(s.firstByteNs >= s.requestNs);
        QVERIFY(s.firstContentNs >= s.firstByteNs);
        QVERIFY(s.doneNs >= s.firstContentNs);
        QCOMPARE(s.firstReasoningNs, -1);
        QVERIFY(s.promptTokens > 0);
        QCOMPARE(s.completionTokens, int(o.deltas.size()));
        QVERIFY(s.tokensPerSecond > 0);
        QCOMPARE(s.finishReason, QStringLiteral("stop"));
        QCOMPARE(s.attempts, 1);
        QCOMPARE(s.httpStatus, 200);
        QCOMPARE(r.lastFailure(), LlmFailure::None);

        // A second turn on the same responder.
        Outcome second;
        QObject::disconnect(&r, nullptr, &r, nullptr);
        record(&r, second);
        r.respond(simpleRequest(QStringLiteral("And on Sunday?")));
        QVERIFY(waitDone(second));
        QCOMPARE(second.finished, 1);
        QCOMPARE(second.text(), m_fake.script().reply);
    }

    void reasoningIsNotSpokenAndTtftCountsFromContent()
    {
        m_fake.script().reasoning = QStringLiteral("The caller asks about the opening hours. The FAQ says nine to six.");
        m_fake.script().reply = QStringLiteral("We are open from nine to six.");
        m_fake.script().tokensPerSecond = 50; // 20 ms a token: 15 reasoning tokens before the first word
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.finished, 1);
        QCOMPARE(o.text(), m_fake.script().reply);
        QVERIFY(!o.text().contains(QLatin1String("FAQ")));

        const LlmTurnStats &s = r.lastStats();
        const int reasoningTokens = int(FakeGroq::tokenize(m_fake.script().reasoning).size());
        QCOMPARE(s.reasoningDeltas, reasoningTokens);
        QVERIFY(s.firstReasoningNs > 0);
        QVERIFY(s.firstContentNs > s.firstReasoningNs);
        // The content starts after all reasoning tokens: >= 15 x 20 ms, minus jitter.
        QVERIFY2(s.timeToFirstContentMs() >= (reasoningTokens - 2) * 20.0, qPrintable(QString::number(s.timeToFirstContentMs())));
        QVERIFY(nsToMs(s.firstContentNs - s.firstReasoningNs) >= (reasoningTokens - 2) * 20.0);
    }

    void everyServerVariant_data()
    {
        QTest::addColumn<FakeGroq::Variant>("variant");
        QTest::addColumn<QByteArray>("lineEnding");
        QTest::addColumn<QString>("reasoning");
        QTest::newRow("groq") << FakeGroq::Variant::Groq << QByteArray("\n") << QString();
        QTest::newRow("groq-crlf") << FakeGroq::Variant::Groq << QByteArray("\r\n") << QString();
        QTest::newRow("openai") << FakeGroq::Variant::OpenAi << QByteArray("\n") << QString();
        QTest::newRow("llamacpp") << FakeGroq::Variant::LlamaCpp << QByteArray("\n") << QString();
        QTest::newRow("llamacpp-reasoning-cr") << FakeGroq::Variant::LlamaCpp << QByteArray("\r") << QStringLiteral("Think first.");
        QTest::newRow("ollama") << FakeGroq::Variant::Ollama << QByteArray("\n") << QString();
        QTest::newRow("ollama-reasoning") << FakeGroq::Variant::Ollama << QByteArray("\n") << QStringLiteral("Hmm, hours.");
    }
    void everyServerVariant()
    {
        QFETCH(FakeGroq::Variant, variant);
        QFETCH(QByteArray, lineEnding);
        QFETCH(QString, reasoning);
        m_fake.script().variant = variant;
        m_fake.script().lineEnding = lineEnding;
        m_fake.script().reasoning = reasoning;
        m_fake.script().reply = QStringLiteral("नमस्ते! हम सुबह नौ बजे खुलते हैं। Anything else?");
        m_fake.script().tokensPerSecond = 1000;
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures, QStringList());
        QCOMPARE(o.finished, 1);
        QCOMPARE(o.text(), m_fake.script().reply);
        QCOMPARE(r.lastStats().finishReason, QStringLiteral("stop"));
        QVERIFY2(r.lastStats().completionTokens > 0, "usage read from every shape");
        QVERIFY(r.lastStats().promptTokens > 0);
        QCOMPARE(r.lastStats().reasoningDeltas, int(FakeGroq::tokenize(reasoning).size()));
    }

    void requestCarriesPromptHistoryAndKey()
    {
        OpenAiSettings settings = settingsFor(m_fake);
        settings.reasoningEffort = QStringLiteral("low");
        OpenAiResponder r(settings);
        ResponderRequest request = simpleRequest(QStringLiteral("Do you take insurance?"));
        for (int i = 0; i < 8; ++i) {
            request.history.append({ConversationTurn::Role::Caller, QStringLiteral("caller %1").arg(i)});
            request.history.append({ConversationTurn::Role::Agent, QStringLiteral("agent %1").arg(i)});
        }
        Outcome o;
        record(&r, o);
        const int before = m_fake.requestCount();
        r.respond(request);
        QVERIFY(waitDone(o));
        QCOMPARE(o.finished, 1);
        QCOMPARE(m_fake.requestCount(), before + 1);

        const auto &seen = m_fake.requests().last();
        QCOMPARE(seen.method, QByteArray("POST"));
        QCOMPARE(seen.path, QByteArray("/openai/v1/chat/completions"));
        QCOMPARE(seen.header("authorization"), "Bearer " + kKey.toUtf8());
        QVERIFY(seen.header("Content-Type").startsWith("application/json"));
        QCOMPARE(seen.model(), QStringLiteral("openai/gpt-oss-120b"));
        QVERIFY(seen.stream());
        QVERIFY(seen.includeUsage());
        QCOMPARE(seen.json.value(QLatin1String("temperature")).toDouble(), 0.3);
        QCOMPARE(seen.json.value(QLatin1String("max_completion_tokens")).toInt(), 256);
        QCOMPARE(seen.json.value(QLatin1String("reasoning_effort")).toString(), QStringLiteral("low"));

        const QJsonArray messages = seen.messages();
        QCOMPARE(messages.size(), 1 + 16 + 1);
        QCOMPARE(messages[0].toObject().value(QLatin1String("role")).toString(), QStringLiteral("system"));
        QCOMPARE(messages[0].toObject().value(QLatin1String("content")).toString(), request.systemPrompt);
        for (int i = 0; i < 16; ++i) {
            const QJsonObject m = messages[1 + i].toObject();
            QCOMPARE(m.value(QLatin1String("role")).toString(), i % 2 == 0 ? QStringLiteral("user") : QStringLiteral("assistant"));
            QCOMPARE(m.value(QLatin1String("content")).toString(), request.history[i].text);
        }
        QCOMPARE(messages[17].toObject().value(QLatin1String("role")).toString(), QStringLiteral("user"));
        QCOMPARE(messages[17].toObject().value(QLatin1String("content")).toString(), request.utterance);

        // No reasoning_effort unless set: models that do not reason reject it.
        const QJsonObject plain = QJsonDocument::fromJson(OpenAiResponder::requestBody(OpenAiSettings{}, request)).object();
        QVERIFY(!plain.contains(QLatin1String("reasoning_effort")));
    }

    void rateLimitedThenRetriedOnce()
    {
        m_fake.script().fault = FakeGroq::Fault::RateLimited;
        m_fake.script().retryAfter = "1";
        OpenAiResponder r(settingsFor(m_fake));
        QSignalSpy limits(&r, &OpenAiResponder::rateLimitObserved);
        Outcome o;
        record(&r, o);
        const int before = m_fake.requestCount();
        QElapsedTimer clock;
        clock.start();
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures, QStringList());
        QCOMPARE(o.finished, 1);
        QCOMPARE(o.text(), m_fake.script().reply);
        QCOMPARE(m_fake.requestCount(), before + 2);
        QVERIFY(clock.elapsed() >= 950);
        QCOMPARE(r.lastStats().attempts, 2);
        QCOMPARE(r.lastStats().httpStatus, 200);

        QCOMPARE(limits.size(), 2);
        const auto first = limits[0][0].value<RateLimitInfo>();
        QCOMPARE(first.httpStatus, 429);
        QVERIFY(first.isRateLimited());
        QCOMPARE(first.retryAfterSeconds, 1.0);
        QCOMPARE(first.limitRequests, 1000);
        QCOMPARE(first.limitTokens, 8000);
        QVERIFY(first.remainingRequests >= 0 && first.remainingRequests < 1000);
        QVERIFY(first.remainingTokens >= 0);
        QCOMPARE(first.resetRequestsMs, 179560);
        QCOMPARE(first.resetTokensMs, 7660);
        const auto second = limits[1][0].value<RateLimitInfo>();
        QCOMPARE(second.httpStatus, 200);
        QCOMPARE(second.retryAfterSeconds, -1.0);
    }

    void rateLimitRetryAfterFromMessage()
    {
        // No retry-after header: Groq's message still says "try again in 0.2s".
        m_fake.script().fault = FakeGroq::Fault::RateLimited;
        m_fake.script().retryAfter.clear();
        m_fake.script().tryAgainIn = QStringLiteral("0.2s");
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures, QStringList());
        QCOMPARE(o.finished, 1);
        QCOMPARE(r.lastStats().attempts, 2);
    }

    void rateLimitedBeyondTheDeadlineFails()
    {
        m_fake.script().fault = FakeGroq::Fault::RateLimited;
        m_fake.script().retryAfter = "10";
        OpenAiResponderFactory factory(settingsFor(m_fake));
        QList<RateLimitInfo> observed;
        factory.setRateLimitObserver([&observed](const RateLimitInfo &info) { observed.append(info); });
        std::unique_ptr<Responder> r = factory.create(Tenant{});
        Outcome o;
        record(r.get(), o);
        const int before = m_fake.requestCount();
        QElapsedTimer clock;
        clock.start();
        r->respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.finished, 0);
        QCOMPARE(o.failures.size(), 1);
        QVERIFY2(o.failure().contains(QLatin1String("rate limited")), qPrintable(o.failure()));
        QVERIFY2(o.failure().contains(QLatin1String("try again in 1.5s")), qPrintable(o.failure()));
        QVERIFY(clock.elapsed() < 1000);
        QCOMPARE(m_fake.requestCount(), before + 1);
        QCOMPARE(static_cast<OpenAiResponder *>(r.get())->lastFailure(), LlmFailure::RateLimited);
        QCOMPARE(observed.size(), 1);
        QCOMPARE(observed[0].httpStatus, 429);
        QCOMPARE(observed[0].retryAfterSeconds, 10.0);
        QCOMPARE(observed[0].limitTokens, 8000);
    }

    void rateLimitedTwiceFails()
    {
        m_fake.script().fault = FakeGroq::Fault::RateLimited;
        m_fake.script().faultTimes = 2;
        m_fake.script().retryAfter = "0.1";
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures.size(), 1);
        QVERIFY2(o.failure().contains(QLatin1String("rate limited")), qPrintable(o.failure()));
        QCOMPARE(r.lastStats().attempts, 2);
    }

    void serverErrorFailsClearly()
    {
        m_fake.script().fault = FakeGroq::Fault::ServerError;
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        const int before = m_fake.requestCount();
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures.size(), 1);
        QVERIFY2(o.failure().contains(QLatin1String("HTTP 500")) && o.failure().contains(QLatin1String("Internal Server Error")),
                 qPrintable(o.failure()));
        QCOMPARE(r.lastFailure(), LlmFailure::Http);
        QCOMPARE(m_fake.requestCount(), before + 1); // no retry: the fallback chain answers
    }

    void decommissionedModelNamesTheSetting()
    {
        m_fake.script().fault = FakeGroq::Fault::ModelDecommissioned;
        OpenAiSettings settings = settingsFor(m_fake);
        settings.model = QStringLiteral("llama-3.3-70b-versatile");
        OpenAiResponder r(settings);
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures.size(), 1);
        const QString why = o.failure();
        QVERIFY2(why.contains(QLatin1String("\"llama-3.3-70b-versatile\"")), qPrintable(why));
        QVERIFY2(why.contains(QLatin1String("LLM_MODEL")), qPrintable(why));
        QVERIFY2(why.contains(QLatin1String("model_decommissioned")), qPrintable(why));
        QVERIFY2(!why.contains(kKey), "the key never appears in a reason");
        QCOMPARE(r.lastFailure(), LlmFailure::ModelUnavailable);
    }

    void stallFailsAfterStallTimeout()
    {
        m_fake.script().fault = FakeGroq::Fault::StallAfterTokens;
        m_fake.script().faultAfterTokens = 2;
        OpenAiSettings settings = settingsFor(m_fake);
        settings.stallTimeoutMs = 300;
        OpenAiResponder r(settings);
        Outcome o;
        record(&r, o);
        QSignalSpy aborted(&m_fake, &FakeGroq::clientAborted);
        QElapsedTimer clock;
        clock.start();
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        const qint64 elapsed = clock.elapsed();
        QCOMPARE(o.deltas.size(), 2);
        QCOMPARE(o.failures.size(), 1);
        QVERIFY2(o.failure().contains(QLatin1String("stalled")), qPrintable(o.failure()));
        QCOMPARE(r.lastFailure(), LlmFailure::Stall);
        QVERIFY2(elapsed >= 280 && elapsed < 3000, qPrintable(QString::number(elapsed)));
        QTRY_COMPARE(aborted.size(), 1);
    }

    void earlyCloseFails()
    {
        m_fake.script().fault = FakeGroq::Fault::CloseAfterTokens;
        m_fake.script().faultAfterTokens = 3;
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.deltas.size(), 3);
        QCOMPARE(o.finished, 0);
        QCOMPARE(o.failures.size(), 1);
        QVERIFY2(o.failure().contains(QLatin1String("closed before the reply finished")), qPrintable(o.failure()));
        QCOMPARE(r.lastFailure(), LlmFailure::ClosedEarly);
    }

    void midStreamErrorFails_data()
    {
        QTest::addColumn<FakeGroq::Variant>("variant");
        QTest::addColumn<QString>("expected");
        QTest::newRow("groq x_groq.error") << FakeGroq::Variant::Groq << QStringLiteral("internal error");
        QTest::newRow("openai error object") << FakeGroq::Variant::OpenAi << QStringLiteral("server_error");
    }
    void midStreamErrorFails()
    {
        QFETCH(FakeGroq::Variant, variant);
        QFETCH(QString, expected);
        m_fake.script().variant = variant;
        m_fake.script().fault = FakeGroq::Fault::ErrorAfterTokens;
        m_fake.script().faultAfterTokens = 2;
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.deltas.size(), 2);
        QCOMPARE(o.finished, 0);
        QCOMPARE(o.failures.size(), 1);
        QVERIFY2(o.failure().contains(expected), qPrintable(o.failure()));
        QCOMPARE(r.lastFailure(), LlmFailure::StreamError);
        QCOMPARE(o.signalsAfterEnd, 0);
    }

    void cancelMidStreamSilencesAndClosesTheConnection()
    {
        m_fake.script().reply = QStringLiteral("One two three four five six seven eight nine ten.");
        m_fake.script().tokensPerSecond = 40;
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        QObject::connect(&r, &Responder::textDelta, &r, [&r, &o] {
            if (o.deltas.size() == 2)
                r.cancel();
        });
        QSignalSpy aborted(&m_fake, &FakeGroq::clientAborted);
        r.respond(simpleRequest());
        QTRY_COMPARE(o.deltas.size(), 2);
        QTest::qWait(500); // the rest would have streamed by now
        QCOMPARE(o.deltas.size(), 2);
        QCOMPARE(o.finished, 0);
        QCOMPARE(o.failures.size(), 0);
        QTRY_COMPARE(aborted.size(), 1);
    }

    void firstTokenDeadline_data()
    {
        QTest::addColumn<QString>("reasoning");
        QTest::addColumn<int>("timeToFirstTokenMs");
        QTest::addColumn<QString>("expected");
        QTest::newRow("silent server") << QString() << 1500 << QStringLiteral("then no token");
        // Bytes keep flowing (no stall) but none is spoken in time.
        QTest::newRow("still reasoning") << QStringLiteral("Let me think step by step about what the caller wants to know here and then some more.")
                                         << 0 << QStringLiteral("still reasoning");
    }
    void firstTokenDeadline()
    {
        QFETCH(QString, reasoning);
        QFETCH(int, timeToFirstTokenMs);
        QFETCH(QString, expected);
        m_fake.script().reasoning = reasoning;
        m_fake.script().timeToFirstTokenMs = timeToFirstTokenMs;
        m_fake.script().tokensPerSecond = 20;
        OpenAiSettings settings = settingsFor(m_fake);
        settings.firstTokenDeadlineMs = 400;
        settings.stallTimeoutMs = 3000;
        OpenAiResponder r(settings);
        Outcome o;
        record(&r, o);
        QElapsedTimer clock;
        clock.start();
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.deltas.size(), 0);
        QCOMPARE(o.failures.size(), 1);
        QCOMPARE(r.lastFailure(), LlmFailure::FirstTokenTimeout);
        QVERIFY2(o.failure().contains(expected), qPrintable(o.failure()));
        QVERIFY2(clock.elapsed() >= 380 && clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    }

    void unreachableServerFails()
    {
        OpenAiSettings settings = settingsFor(m_fake);
        settings.baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(test::freeLoopbackPort());
        OpenAiResponder r(settings);
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.failures.size(), 1);
        QCOMPARE(r.lastFailure(), LlmFailure::Network);
        QVERIFY2(o.failure().contains(QLatin1String("cannot reach")), qPrintable(o.failure()));
    }

    void badBaseUrlFailsAfterRespondReturns()
    {
        OpenAiSettings settings;
        settings.baseUrl = QStringLiteral("ftp://example.invalid");
        OpenAiResponder r(settings);
        r.respond(simpleRequest());
        Outcome o;
        record(&r, o); // connected after respond(): still hears the failure
        QVERIFY(waitDone(o, 1000));
        QCOMPARE(r.lastFailure(), LlmFailure::Configuration);
        QVERIFY(o.failure().contains(QLatin1String("LLM_BASE_URL")));
    }

    void reasoningWithoutContentIsAFailure()
    {
        m_fake.script().reasoning = QStringLiteral("Thinking until the token budget runs out");
        m_fake.script().reply.clear();
        OpenAiResponder r(settingsFor(m_fake));
        Outcome o;
        record(&r, o);
        r.respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.finished, 0);
        QCOMPARE(r.lastFailure(), LlmFailure::EmptyReply);
    }

    void deletingTheResponderFromASlotIsSafe()
    {
        m_fake.script().reply = QStringLiteral("One two three four five.");
        auto *r = new OpenAiResponder(settingsFor(m_fake));
        int deltas = 0;
        QObject::connect(r, &Responder::textDelta, r, [r, &deltas] {
            ++deltas;
            delete r; // a hang-up handler may drop the call's responder at once
        });
        r->respond(simpleRequest());
        QTRY_COMPARE(deltas, 1);
        QTest::qWait(100);
        QCOMPARE(deltas, 1);
    }

    void settingsFromProviderConfig()
    {
        ProviderConfig config;
        config.llmApiKey = kKey;
        config.llmBaseUrl = m_fake.baseUrl();
        OpenAiSettings s = openAiSettingsFrom(config);
        QCOMPARE(s.model, QStringLiteral("openai/gpt-oss-120b"));
        QCOMPARE(s.reasoningEffort, QStringLiteral("low"));
        QCOMPARE(s.apiKey, kKey);
        QCOMPARE(s.baseUrl, m_fake.baseUrl());
        config.llmModel = QStringLiteral("llama-3.3-70b-versatile"); // LLM_MODEL brings the old id back
        s = openAiSettingsFrom(config);
        QCOMPARE(s.model, config.llmModel);
        QVERIFY(s.reasoningEffort.isEmpty());
    }

    void factoryAppliesTenantModel()
    {
        OpenAiSettings base = settingsFor(m_fake);
        base.reasoningEffort = OpenAiSettings::defaultReasoningEffortFor(base.model);
        QCOMPARE(base.reasoningEffort, QStringLiteral("low"));
        OpenAiResponderFactory factory(base);
        QCOMPARE(factory.name(), QStringLiteral("groq"));
        QCOMPARE(OpenAiResponderFactory(base, QStringLiteral("openai")).name(), QStringLiteral("openai"));

        Tenant tenant;
        tenant.id = QStringLiteral("sunrise-dental");
        tenant.llmModel = QStringLiteral("llama-3.3-70b-versatile");
        const OpenAiSettings forTenant = factory.settingsFor(tenant);
        QCOMPARE(forTenant.model, tenant.llmModel);
        QVERIFY2(forTenant.reasoningEffort.isEmpty(), "no reasoning_effort for a model that does not reason");
        QCOMPARE(factory.settingsFor(Tenant{}).model, QStringLiteral("openai/gpt-oss-120b"));
        QCOMPARE(factory.settingsFor(Tenant{}).firstTokenDeadlineMs, base.firstTokenDeadlineMs);
        Tenant impatient;
        impatient.llmFirstTokenDeadlineMs = 1200;
        QCOMPARE(factory.settingsFor(impatient).firstTokenDeadlineMs, 1200);

        std::unique_ptr<Responder> r = factory.create(tenant);
        Outcome o;
        record(r.get(), o);
        r->respond(simpleRequest());
        QVERIFY(waitDone(o));
        QCOMPARE(o.finished, 1);
        QCOMPARE(m_fake.requests().last().model(), tenant.llmModel);
        QVERIFY(!m_fake.requests().last().json.contains(QLatin1String("reasoning_effort")));
    }

private:
    FakeGroq m_fake;
};

QTEST_GUILESS_MAIN(TestGroqResponder)
#include "test_groqresponder.moc"
