// A whole phone call through the production pipeline of the seed document,
// Twilio -> Deepgram -> Groq -> Azure -> caller, with each cloud service replaced
// by its protocol-faithful fake on 127.0.0.1 and the engine running as it does
// in production (its own thread, the real Twilio leg, the simulated caller
// speaking flite audio over a real WebSocket).

#include "fakeazure.h"
#include "fakedeepgram.h"
#include "fakegroq.h"

#include "audio/g711.h"
#include "host/callmonitor.h"
#include "host/enginehost.h"
#include "democall/simulatedcaller.h"
#include "tenancy/engineconfig.h"
#include "tts/embedded/embeddedsynthesizer.h"

#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>

using namespace apex;
using namespace apex::test;

namespace {

QByteArray speech(const QString &text)
{
    return EmbeddedSynthesizer::synthesizeBlocking(SynthesisRequest{text, QStringLiteral("rms"), QStringLiteral("en")});
}

// Speech without the silence flite puts before and after it, so a pause
// between two pieces is as long as the test says.
QByteArray trimmed(const QByteArray &mulaw)
{
    const QVector<std::int16_t> pcm = audio::g711::decodeMulaw(mulaw);
    qsizetype first = 0, last = pcm.size();
    while (first < last && std::abs(pcm[first]) < 300)
        ++first;
    while (last > first && std::abs(pcm[last - 1]) < 300)
        --last;
    return mulaw.mid(first, last - first);
}

QString lastUserMessage(const FakeGroqRequest &request)
{
    const QJsonArray messages = request.messages();
    for (qsizetype i = messages.size() - 1; i >= 0; --i)
        if (messages.at(i).toObject().value(QStringLiteral("role")).toString() == QLatin1String("user"))
            return messages.at(i).toObject().value(QStringLiteral("content")).toString();
    return {};
}

// The assistant message that answered the user message containing `question`.
QString answerTo(const FakeGroqRequest &request, const QString &question)
{
    const QJsonArray messages = request.messages();
    for (qsizetype i = 0; i + 1 < messages.size(); ++i) {
        const QJsonObject m = messages.at(i).toObject();
        if (m.value(QStringLiteral("role")).toString() == QLatin1String("user")
            && m.value(QStringLiteral("content")).toString().contains(question)) {
            const QJsonObject next = messages.at(i + 1).toObject();
            return next.value(QStringLiteral("role")).toString() == QLatin1String("assistant")
                       ? next.value(QStringLiteral("content")).toString()
                       : QString();
        }
    }
    return QStringLiteral("<no such question>");
}

} // namespace

class TestCloudCall : public QObject
{
    Q_OBJECT

private:
    FakeDeepgram m_deepgram;
    FakeGroq m_groq;
    FakeAzure m_azure;
    std::unique_ptr<EngineHost> m_host;
    EngineConfig m_config;

    QByteArray metrics()
    {
        QNetworkAccessManager manager;
        QNetworkReply *reply = manager.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/metrics").arg(m_host->port()))));
        QSignalSpy done(reply, &QNetworkReply::finished);
        if (!done.wait(10000))
            return {};
        reply->deleteLater();
        return reply->readAll();
    }

    static double sample(const QByteArray &metrics, const QByteArray &series)
    {
        for (const QByteArray &line : metrics.split('\n'))
            if (line.startsWith(series + ' '))
                return line.mid(series.size() + 1).toDouble();
        return -1;
    }

    CallReport runCall(const QString &tenant, const QList<QByteArray> &utterances, int bargeInAfterMs = 0)
    {
        SimulatedCallerOptions options;
        options.port = m_host->port();
        options.tenant = tenant;
        options.utterances = utterances;
        options.bargeInAfterMs = bargeInAfterMs;
        SimulatedCaller caller(options);
        QSignalSpy finished(&caller, &SimulatedCaller::finished);
        caller.start();
        if (!finished.wait(90000))
            return CallReport{};
        return finished.first().first().value<CallReport>();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_deepgram.listen());
        QVERIFY(m_groq.start());
        QVERIFY(m_azure.listen());

        ConfigError error;
        auto config = EngineConfigLoader::loadFile(QStringLiteral(APEX_RESOURCES_DIR "/config/apex.json"), &error);
        QVERIFY2(config, qPrintable(error.message));
        m_config = *config;
        m_config.listen = QStringLiteral("127.0.0.1:0");
        m_config.prewarmAtStart = false; // every Azure request below comes from a call
        ProviderConfig &p = m_config.providers;
        p.deepgramApiKey = QStringLiteral("test-key");
        p.deepgramUrl = m_deepgram.url().toString();
        p.llmApiKey = QStringLiteral("gsk_test_0123456789abcdef");
        p.llmBaseUrl = m_groq.baseUrl();
        p.azureSpeechKey = QStringLiteral("test-key");
        p.azureTtsUrl = m_azure.url().toString();

        Tenant hindi;
        hindi.id = QStringLiteral("sunrise-hi");
        hindi.name = QStringLiteral("सनराइज़ डेंटल क्लिनिक");
        hindi.language = QStringLiteral("hi");
        hindi.voice = QStringLiteral("hi-IN-SwaraNeural");
        hindi.greeting = QStringLiteral("नमस्ते। मैं आपकी क्या मदद कर सकती हूँ?");
        hindi.systemPrompt = QStringLiteral("आप सनराइज़ डेंटल क्लिनिक की रिसेप्शनिस्ट हैं।");
        m_config.tenants << hindi;

        // A slow endpointer (700 ms): the caller's pauses shorter than that are
        // where a preemptive reply is asked for, with room to spare.
        Tenant patient = m_config.tenants.first();
        patient.id = QStringLiteral("patient");
        patient.numbers.clear();
        patient.endpointingMs = 700;
        patient.silenceBudgetMs = 2500;
        m_config.tenants << patient;

        m_host = std::make_unique<EngineHost>(m_config);
        QString startError;
        QVERIFY2(m_host->start(&startError), qPrintable(startError));
    }

    void cleanupTestCase() { m_host.reset(); }

    void wholeCallThroughTheThreeProviders()
    {
        m_deepgram.addTranscript(QStringLiteral("what are your opening hours"));
        m_deepgram.addTranscript(QStringLiteral("do you have parking"));
        FakeGroq::Script script;
        script.timeToFirstTokenMs = 50;
        script.tokensPerSecond = 400;
        script.replyFor = [](const FakeGroqRequest &request) {
            return lastUserMessage(request).contains(QStringLiteral("parking"))
                       ? QStringLiteral("Yes, there is free parking. It is behind the building.")
                       : QStringLiteral("We are open Monday to Saturday. We open at nine.");
        };
        m_groq.setScript(script);
        const int azureBefore = m_azure.requestCount();

        const CallReport report = runCall(QStringLiteral("demo"), {speech(QStringLiteral("What are your opening hours?")),
                                                                   speech(QStringLiteral("Do you have parking?"))});
        QVERIFY2(report.ok(), qPrintable(report.errors.join(QStringLiteral("; "))));
        QCOMPARE(report.turns.size(), 2);
        for (const auto &turn : report.turns)
            QVERIFY(turn.latencyMs > 0 && turn.agentFrames > 0);
        QCOMPARE(report.malformedFrames, 0);

        // Deepgram: one socket, the documented query, the Token header, Twilio's mu-law as is.
        const auto &dg = m_deepgram.connections().last();
        QCOMPARE(dg.query.queryItemValue(QStringLiteral("model")), QStringLiteral("nova-2"));
        QCOMPARE(dg.query.queryItemValue(QStringLiteral("language")), QStringLiteral("en"));
        QCOMPARE(dg.query.queryItemValue(QStringLiteral("encoding")), QStringLiteral("mulaw"));
        QCOMPARE(dg.query.queryItemValue(QStringLiteral("sample_rate")), QStringLiteral("8000"));
        QCOMPARE(dg.query.queryItemValue(QStringLiteral("endpointing")), QStringLiteral("250"));
        QCOMPARE(dg.query.queryItemValue(QStringLiteral("interim_results")), QStringLiteral("true"));
        QCOMPARE(dg.query.queryItemValue(QStringLiteral("vad_events")), QStringLiteral("true"));
        QCOMPARE(dg.headers.value("authorization"), QByteArray("Token test-key"));
        QVERIFY(dg.audio.size() > 8000); // seconds of caller audio, forwarded

        // Groq: the tenant's prompt, the history so far, the utterance; bearer auth; streaming.
        QVERIFY(m_groq.requests().size() >= 2);
        const FakeGroqRequest &second = m_groq.requests().last();
        QCOMPARE(second.header("authorization"), QByteArray("Bearer gsk_test_0123456789abcdef"));
        QVERIFY(second.stream());
        QCOMPARE(second.model(), QStringLiteral("openai/gpt-oss-120b"));
        const QJsonArray messages = second.messages();
        QCOMPARE(messages.first().toObject().value(QStringLiteral("role")).toString(), QStringLiteral("system"));
        QCOMPARE(messages.first().toObject().value(QStringLiteral("content")).toString(), m_config.tenants.first().systemPrompt);
        // system, greeting, question 1, answer 1, question 2
        QCOMPARE(messages.size(), 5);
        QCOMPARE(lastUserMessage(second), QStringLiteral("do you have parking"));

        // Azure: one request per sentence, in the tenant's fallback English voice, valid SSML.
        QStringList spoken;
        for (int i = azureBefore; i < m_azure.requestCount(); ++i) {
            const auto &request = m_azure.requests().at(i);
            QVERIFY2(request.ssmlValid, qPrintable(request.ssmlError));
            QCOMPARE(request.voice, QStringLiteral("en-US-JennyNeural"));
            QCOMPARE(request.outputFormat, QStringLiteral("raw-8khz-8bit-mono-mulaw"));
            QCOMPARE(request.header("ocp-apim-subscription-key"), QByteArray("test-key"));
            spoken << request.text;
        }
        QVERIFY2(spoken.contains(QStringLiteral("We are open Monday to Saturday.")), qPrintable(spoken.join(u'|')));
        QVERIFY(spoken.contains(QStringLiteral("It is behind the building.")));
        QVERIFY(report.agentAudio.size() > 8000 * 3);

        // The moments the LLM and TTS requests left are stages of their own, so
        // a queue of ours in front of a provider is never counted as its time.
        const CallMonitor *monitor = m_host->monitor();
        QTRY_VERIFY_WITH_TIMEOUT(monitor->count() > 0 && !monitor->at(monitor->count() - 1).turns.isEmpty(), 5000);
        const TurnTrace &turn = monitor->at(monitor->count() - 1).turns.first();
        QVERIFY(turn.has(TurnStage::LlmRequestSent));
        QVERIFY(turn.at(TurnStage::LlmRequestSent) >= turn.at(TurnStage::ResponderStart));
        QVERIFY(turn.has(TurnStage::TtsRequestSent));
        QVERIFY(turn.at(TurnStage::TtsRequestSent) >= turn.at(TurnStage::TtsStart));
    }

    void hindiCall()
    {
        m_deepgram.addTranscript(QStringLiteral("क्या आप शनिवार को खुले हैं"));
        FakeGroq::Script script;
        script.reply = QStringLiteral("जी हाँ। हम सोमवार से शनिवार तक खुले हैं।");
        m_groq.setScript(script);
        const int azureBefore = m_azure.requestCount();

        const CallReport report = runCall(QStringLiteral("sunrise-hi"), {speech(QStringLiteral("Are you open on Saturday?"))});
        QVERIFY2(report.ok(), qPrintable(report.errors.join(QStringLiteral("; "))));

        QCOMPARE(m_deepgram.connections().last().query.queryItemValue(QStringLiteral("language")), QStringLiteral("hi"));
        QStringList spoken;
        for (int i = azureBefore; i < m_azure.requestCount(); ++i) {
            const auto &request = m_azure.requests().at(i);
            QCOMPARE(request.voice, QStringLiteral("hi-IN-SwaraNeural"));
            QCOMPARE(request.speakLang, QStringLiteral("hi-IN"));
            spoken << request.text;
        }
        // The greeting and the reply, each cut at the danda.
        QCOMPARE(spoken, QStringList({QStringLiteral("नमस्ते।"), QStringLiteral("मैं आपकी क्या मदद कर सकती हूँ?"),
                                      QStringLiteral("जी हाँ।"), QStringLiteral("हम सोमवार से शनिवार तक खुले हैं।")}));
    }

    void bargeInDuringAStreamingAzureResponse()
    {
        // Azure streams the reply slowly, about as fast as it plays: the caller
        // talks over it while the HTTP response is still arriving.
        FakeAzure::Options slow = m_azure.options();
        slow.chunkBytes = 800;
        slow.chunkIntervalMs = 100;
        m_azure.setOptions(slow);
        m_deepgram.addTranscript(QStringLiteral("tell me everything about your clinic"));
        m_deepgram.addTranscript(QStringLiteral("do you have parking"));
        FakeGroq::Script script;
        script.replyFor = [](const FakeGroqRequest &request) {
            return lastUserMessage(request).contains(QStringLiteral("parking"))
                       ? QStringLiteral("Yes, there is free parking.")
                       : QStringLiteral("Sunrise Dental Clinic has served this town for twenty years and our team of "
                                        "dentists treats adults and children six days a week.");
        };
        m_groq.setScript(script);
        const int azureBefore = m_azure.requestCount();
        const int groqBefore = int(m_groq.requests().size());

        const CallReport report = runCall(QStringLiteral("demo"), {speech(QStringLiteral("Tell me everything about your clinic.")),
                                                                   speech(QStringLiteral("Do you have parking?"))},
                                          1000);
        m_azure.setOptions(FakeAzure::Options{});
        QVERIFY2(report.ok(), qPrintable(report.errors.join(QStringLiteral("; "))));
        QVERIFY(report.clearsReceived >= 1);
        QVERIFY(report.turns.first().bargedIn);
        QVERIFY(report.turns.first().clearReceived);
        // The long answer's synthesis was abandoned mid-body, not played to its end.
        bool abandoned = false;
        for (int i = azureBefore; i < m_azure.requestCount(); ++i)
            abandoned = abandoned || (m_azure.requests().at(i).text.startsWith(QStringLiteral("Sunrise Dental Clinic has served"))
                                      && !m_azure.requests().at(i).complete);
        QVERIFY(abandoned);

        // The next request's context holds what the caller heard of the long
        // answer before talking over it: a beginning of it, not all of it.
        QCOMPARE(int(m_groq.requests().size()), groqBefore + 2);
        const QString longAnswer = QStringLiteral("Sunrise Dental Clinic has served this town for twenty years and our team of "
                                                  "dentists treats adults and children six days a week.");
        const QString heard = answerTo(m_groq.requests().last(), QStringLiteral("tell me everything"));
        qInfo().noquote() << "context after the barge-in:" << heard;
        QVERIFY2(longAnswer.startsWith(heard) && heard.size() < longAnswer.size(), qPrintable(heard));

        // The console's transcript shows the answer whole, its unheard part apart.
        const CallMonitor *monitor = m_host->monitor();
        QTRY_VERIFY_WITH_TIMEOUT(monitor->count() > 0, 5000);
        bool cutShown = false;
        for (const TranscriptLine &line : monitor->at(monitor->count() - 1).lines)
            cutShown = cutShown || (line.wasCut() && line.text == longAnswer && line.heardText() == heard
                                    && !line.unheardText().isEmpty());
        QVERIFY(cutShown);
    }

    // What the fakes said and were asked, in the order it happened: "llm: <the
    // utterance>" for each Groq request, "speech_final" for each end of turn.
    void recordOrder(QList<QMetaObject::Connection> *connections, QStringList *events)
    {
        connections->append(connect(&m_deepgram, &FakeDeepgram::messageSent, this, [events](int, const QString &text) {
            if (text.contains(QLatin1String("\"speech_final\":true")))
                events->append(QStringLiteral("speech_final"));
        }));
        connections->append(connect(&m_groq, &FakeGroq::requestReceived, this, [this, events](int index) {
            events->append(QStringLiteral("llm: ") + lastUserMessage(m_groq.requests().at(index)));
        }));
    }

    void preemptiveReplyAdoptedWhenTheFinalSaysTheSame()
    {
        m_deepgram.addTranscript(QStringLiteral("what are your opening hours"));
        FakeGroq::Script script;
        script.reply = QStringLiteral("We are open Monday to Saturday. We open at nine.");
        m_groq.setScript(script);
        const int groqBefore = int(m_groq.requests().size());
        const QByteArray before = metrics();
        QList<QMetaObject::Connection> connections;
        QStringList events;
        recordOrder(&connections, &events);

        const CallReport report = runCall(QStringLiteral("patient"), {speech(QStringLiteral("What are your opening hours?"))});
        for (const auto &c : std::as_const(connections))
            disconnect(c);
        QVERIFY2(report.ok(), qPrintable(report.errors.join(QStringLiteral("; "))));
        QCOMPARE(report.turns.size(), 1);
        QVERIFY(report.turns.first().agentFrames > 0);

        // Asked while Deepgram's endpointing silence still ran, once, and adopted.
        QCOMPARE(events, QStringList({QStringLiteral("llm: what are your opening hours"), QStringLiteral("speech_final")}));
        QCOMPARE(int(m_groq.requests().size()), groqBefore + 1);
        const QByteArray after = metrics();
        const QByteArray adopted = R"(apex_preemptive_replies_total{outcome="adopted"})";
        const QByteArray cancelled = R"(apex_preemptive_replies_total{outcome="cancelled"})";
        QCOMPARE(sample(after, adopted), sample(before, adopted) + 1);
        QCOMPARE(sample(after, cancelled), sample(before, cancelled));

        const CallMonitor *monitor = m_host->monitor();
        QTRY_VERIFY_WITH_TIMEOUT(monitor->count() > 0 && !monitor->at(monitor->count() - 1).turns.isEmpty(), 5000);
        const TurnTrace &turn = monitor->at(monitor->count() - 1).turns.first();
        QVERIFY(turn.preemptive);
        QVERIFY(turn.preemptiveSentNs > 0 && turn.preemptiveSentNs < turn.at(TurnStage::Endpointed));
        QVERIFY(turn.toJson().contains(QStringLiteral("preemptiveSentMs")));
    }

    void preemptiveReplyCancelledWhenTheCallerGoesOn()
    {
        // The caller pauses after "opening hours" (longer than the pause that
        // makes the transcript stable, shorter than the endpointing), then goes on.
        m_deepgram.addTranscript(QStringLiteral("what are your opening hours | on sunday"));
        FakeGroq::Script script;
        script.timeToFirstTokenMs = 20;
        script.tokensPerSecond = 400;
        script.replyFor = [](const FakeGroqRequest &request) {
            return lastUserMessage(request).contains(QStringLiteral("sunday"))
                       ? QStringLiteral("On Sunday the clinic is closed.")
                       : QStringLiteral("Our hours are nine to six on weekdays.");
        };
        m_groq.setScript(script);
        const int groqBefore = int(m_groq.requests().size());
        const int azureBefore = m_azure.requestCount();
        const QByteArray before = metrics();
        QList<QMetaObject::Connection> connections;
        QStringList events;
        recordOrder(&connections, &events);

        const QByteArray pause(8 * 400, char(0xFF)); // 400 ms of mu-law silence
        const CallReport report = runCall(QStringLiteral("patient"), {trimmed(speech(QStringLiteral("What are your opening hours"))) + pause
                                                                      + trimmed(speech(QStringLiteral("on Sunday?")))
                                                                      + QByteArray(8 * 300, char(0xFF))});
        for (const auto &c : std::as_const(connections))
            disconnect(c);
        QVERIFY2(report.ok(), qPrintable(report.errors.join(QStringLiteral("; "))));
        QCOMPARE(report.turns.size(), 1);

        // The preemptive request went out in the pause and was cancelled when
        // the caller went on; the words after the last pause were asked for
        // again (before speech_final here too) and that reply answered the turn.
        qInfo() << "events:" << events;
        QVERIFY(events.size() >= 3);
        QCOMPARE(events.first(), QStringLiteral("llm: what are your opening hours"));
        QCOMPARE(events.at(events.size() - 2), QStringLiteral("llm: what are your opening hours on sunday"));
        QCOMPARE(events.last(), QStringLiteral("speech_final"));
        const int asked = int(events.size()) - 1;
        QCOMPARE(int(m_groq.requests().size()), groqBefore + asked);
        const QByteArray after = metrics();
        const QByteArray adopted = R"(apex_preemptive_replies_total{outcome="adopted"})";
        const QByteArray cancelled = R"(apex_preemptive_replies_total{outcome="cancelled"})";
        QCOMPARE(sample(after, cancelled), sample(before, cancelled) + asked - 1);
        QCOMPARE(sample(after, adopted), sample(before, adopted) + 1);
        // The context of the answered request holds no trace of the cancelled one:
        // system, greeting, the whole question.
        QCOMPARE(m_groq.requests().last().messages().size(), 3);

        // The cancelled reply was never synthesised: nothing of it could be
        // played to the caller or written to the TTS cache.
        QStringList spoken;
        for (int i = azureBefore; i < m_azure.requestCount(); ++i)
            spoken << m_azure.requests().at(i).text;
        QVERIFY2(!spoken.contains(QStringLiteral("Our hours are nine to six on weekdays.")), qPrintable(spoken.join(u'|')));
        QVERIFY2(spoken.contains(QStringLiteral("On Sunday the clinic is closed.")), qPrintable(spoken.join(u'|')));
    }

    void backchannelOverTheAgentIsNotAnInterruption_data()
    {
        QTest::addColumn<QString>("tenant");
        QTest::addColumn<QString>("spoken");
        QTest::addColumn<QString>("recognised");
        QTest::newRow("ok") << QStringLiteral("demo") << QStringLiteral("Okay.") << QStringLiteral("okay");
        QTest::newRow("haan") << QStringLiteral("sunrise-hi") << QStringLiteral("Haan.") << QStringLiteral("हाँ");
    }

    void backchannelOverTheAgentIsNotAnInterruption()
    {
        QFETCH(QString, tenant);
        QFETCH(QString, spoken);
        QFETCH(QString, recognised);
        m_deepgram.addTranscript(QStringLiteral("when are you open"));
        m_deepgram.addTranscript(recognised);
        FakeGroq::Script script;
        script.reply = QStringLiteral("We are open Monday to Saturday from nine in the morning until six in the evening. "
                                      "On Sundays and public holidays the clinic is closed.");
        m_groq.setScript(script);
        const int groqBefore = int(m_groq.requests().size());
        const double ignoredBefore = sample(metrics(), R"(apex_barge_in_decisions_total{decision="ignored",reason="backchannel"})");

        const CallReport report = runCall(tenant, {speech(QStringLiteral("When are you open?")), speech(spoken)}, 800);
        QVERIFY2(report.ok(), qPrintable(report.errors.join(QStringLiteral("; "))));
        QVERIFY(report.turns.first().bargedIn); // the caller did talk over the agent...
        QCOMPARE(report.clearsReceived, 0);     // ... and the agent went on
        QVERIFY(!report.turns.first().clearReceived);
        // One request: the backchannel was not a question.
        QCOMPARE(int(m_groq.requests().size()), groqBefore + 1);
        // The reply played whole: well over the 800 ms the caller listened before "ok".
        QVERIFY(report.turns.first().agentAudioMs + report.turns.last().agentAudioMs > 3000);

        const double ignoredAfter = sample(metrics(), R"(apex_barge_in_decisions_total{decision="ignored",reason="backchannel"})");
        QCOMPARE(ignoredAfter, ignoredBefore + 1);
    }
};

QTEST_GUILESS_MAIN(TestCloudCall)
#include "test_cloud_call.moc"
