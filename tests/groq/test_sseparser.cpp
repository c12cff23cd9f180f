#include "llm/openai/openaisettings.h"
#include "llm/openai/sseparser.h"

#include <QTest>

using namespace apex;

namespace {

QList<SseEvent> parseAll(QByteArrayView stream, qsizetype maxBytes = SseParser::kDefaultMaxBytes)
{
    SseParser p(maxBytes);
    QList<SseEvent> events = p.feed(stream);
    events += p.finish();
    return events;
}

QList<SseEvent> parseSplit(QByteArrayView stream, const QList<qsizetype> &cuts)
{
    SseParser p;
    QList<SseEvent> events;
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        events += p.feed(stream.sliced(from, cut - from));
        from = cut;
    }
    events += p.feed(stream.sliced(from));
    events += p.finish();
    return events;
}

QByteArrayList datas(const QList<SseEvent> &events)
{
    QByteArrayList out;
    for (const SseEvent &e : events)
        out.append(e.data);
    return out;
}

} // namespace

class TestSseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void singleEvent()
    {
        const auto events = parseAll("data: {\"a\":1}\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("{\"a\":1}"));
        QVERIFY(events[0].event.isEmpty());
        QVERIFY(!events[0].isDone());
    }

    void multiLineDataJoinedWithNewline()
    {
        QCOMPARE(datas(parseAll("data: first\ndata: second\ndata:\ndata: fourth\n\n")),
                 QByteArrayList{"first\nsecond\n\nfourth"});
    }

    void lineEndings_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::newRow("lf") << QByteArray("data: a\n\ndata: b\n\n");
        QTest::newRow("crlf") << QByteArray("data: a\r\n\r\ndata: b\r\n\r\n");
        QTest::newRow("cr") << QByteArray("data: a\r\rdata: b\r\r");
        QTest::newRow("mixed") << QByteArray("data: a\r\n\ndata: b\r\r\n");
    }
    void lineEndings()
    {
        QFETCH(QByteArray, stream);
        QCOMPARE(datas(parseAll(stream)), (QByteArrayList{"a", "b"}));
    }

    void crAndLfInSeparateReads()
    {
        // Read as a lone '\r' then "\n…", the '\n' is not a blank line: one event.
        const QByteArray stream = "data: a\r\ndata: b\r\n\r\n";
        QCOMPARE(datas(parseSplit(stream, {8})), QByteArrayList{"a\nb"});
        QCOMPARE(datas(parseSplit(stream, {8, 9, 17, 18, 19})), QByteArrayList{"a\nb"});
    }

    void commentsIgnored()
    {
        QCOMPARE(datas(parseAll(": keep-alive\n\n: ping\ndata: x\n: between\ndata: y\n\n:\n\n")), QByteArrayList{"x\ny"});
        QVERIFY(parseAll(": OPENROUTER PROCESSING\n\n").isEmpty());
    }

    void dataWithAndWithoutSpace()
    {
        QCOMPARE(datas(parseAll("data:x\n\ndata: y\n\ndata:  z\n\n")), (QByteArrayList{"x", "y", " z"}));
    }

    void fieldWithoutColonHasEmptyValue()
    {
        const auto events = parseAll("data\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray());
    }

    void blankLineWithoutDataDispatchesNothing()
    {
        const auto events = parseAll("\n\nevent: ping\n\ndata: x\n\n");
        QCOMPARE(events.size(), 1);
        QVERIFY2(events[0].event.isEmpty(), "the event type resets with an empty dispatch");
    }

    void eventAndIdFields()
    {
        const auto events = parseAll("event: update\nid: 7\ndata: x\n\ndata: y\n\nid\ndata: z\n\nretry: 1500\nunknown: q\n\n");
        QCOMPARE(events.size(), 3);
        QCOMPARE(events[0].event, QByteArray("update"));
        QCOMPARE(events[0].id, QByteArray("7"));
        QVERIFY(events[1].event.isEmpty());
        QCOMPARE(events[1].id, QByteArray("7")); // sticky
        QCOMPARE(events[2].id, QByteArray());    // "id" alone resets it
        SseParser p;
        p.feed("retry: 1500\n\n");
        QCOMPARE(p.retryMs(), 1500);
    }

    void doneMarker()
    {
        const auto events = parseAll("data: {\"x\":1}\n\ndata: [DONE]\n\n");
        QCOMPARE(events.size(), 2);
        QVERIFY(events[1].isDone());
    }

    void severalEventsInOneRead()
    {
        QByteArray stream;
        for (int i = 0; i < 50; ++i)
            stream += "data: " + QByteArray::number(i) + "\n\n";
        const auto events = parseAll(stream);
        QCOMPARE(events.size(), 50);
        QCOMPARE(events[49].data, QByteArray("49"));
    }

    void eventSplitAtEveryByte()
    {
        const QByteArray stream = "data: {\"content\":\"नमस्ते, क्या हाल है?\"}\r\n\r\n: c\r\ndata: [DONE]\r\n\r\n";
        const QList<SseEvent> expected = parseAll(stream);
        QCOMPARE(expected.size(), 2);
        QCOMPARE(QString::fromUtf8(expected[0].data), QString::fromUtf8("{\"content\":\"नमस्ते, क्या हाल है?\"}"));
        for (qsizetype cut = 1; cut < stream.size(); ++cut)
            QCOMPARE(parseSplit(stream, {cut}), expected);
        SseParser p;
        QList<SseEvent> byteByByte;
        for (char c : stream)
            byteByByte += p.feed(QByteArrayView(&c, 1));
        QCOMPARE(byteByByte, expected);
    }

    void eofWithoutBlankLine()
    {
        // llama.cpp may end with "data: [DONE]" and one newline, or none.
        for (const QByteArray stream : {QByteArray("data: a\n\ndata: [DONE]\n"), QByteArray("data: a\n\ndata: [DONE]")}) {
            SseParser p;
            QCOMPARE(p.feed(stream).size(), 1);
            const auto tail = p.finish();
            QCOMPARE(tail.size(), 1);
            QVERIFY(tail[0].isDone());
        }
        SseParser p;
        p.feed("data: a\r");
        QCOMPARE(datas(p.finish()), QByteArrayList{"a"});
        QVERIFY(p.finish().isEmpty());
    }

    void byteOrderMarkStripped()
    {
        QCOMPARE(datas(parseSplit("\xEF\xBB\xBF" "data: a\n\n", {1, 2})), QByteArrayList{"a"});
    }

    void overlongLineIsAnError()
    {
        SseParser p(1024);
        QCOMPARE(p.feed("data: ok\n\n").size(), 1);
        const QByteArray big(600, 'x');
        QVERIFY(p.feed("data: " + big).isEmpty());
        QVERIFY(!p.hasError());
        QVERIFY(p.feed(big).isEmpty());
        QVERIFY(p.hasError());
        QVERIFY(p.errorString().contains(QLatin1String("1024")));
        QVERIFY(p.feed("\n\ndata: later\n\n").isEmpty());
        QVERIFY(p.finish().isEmpty());
        p.reset();
        QCOMPARE(p.feed("data: again\n\n").size(), 1);
    }

    void overlongEventDataIsAnError()
    {
        SseParser p(1024);
        const QByteArray line = "data: " + QByteArray(100, 'y') + "\n";
        for (int i = 0; i < 20; ++i)
            p.feed(line);
        QVERIFY(p.hasError());
    }

    void recordedGroqStream()
    {
        const QByteArray stream =
            R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1769093744,"model":"openai/gpt-oss-120b","system_fingerprint":"fp_1","x_groq":{"id":"req_1"},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})"
            "\n\n"
            R"(data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]})"
            "\n\n"
            R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":38,"completion_tokens":4}}})"
            "\n\n"
            "data: [DONE]\n\n";
        const auto events = parseAll(stream);
        QCOMPARE(events.size(), 4);
        QVERIFY(events[1].data.contains("\"Hello\""));
        QVERIFY(events[3].isDone());
    }

    void rateLimitDurations()
    {
        QCOMPARE(parseRateLimitDurationMs("2m59.56s"), 179560);
        QCOMPARE(parseRateLimitDurationMs("7.66s"), 7660);
        QCOMPARE(parseRateLimitDurationMs("450ms"), 450);
        QCOMPARE(parseRateLimitDurationMs("1h2m"), 3720000);
        QCOMPARE(parseRateLimitDurationMs("2"), 2000);
        QCOMPARE(parseRateLimitDurationMs(" 1.5 "), 1500);
        QCOMPARE(parseRateLimitDurationMs(""), -1);
        QCOMPARE(parseRateLimitDurationMs("soon"), -1);
        QCOMPARE(parseRateLimitDurationMs("1m2"), -1);
        QCOMPARE(parseRateLimitDurationMs("5d"), -1);
    }
};

QTEST_GUILESS_MAIN(TestSseParser)
#include "test_sseparser.moc"
