#include "llm/openai/sseparser.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTest>

using namespace apex;

namespace {

// A stream in the shapes the servers really send, with every ending, a comment,
// multi-line data, non-ASCII text and llama.cpp's unterminated [DONE].
QByteArray recordedStream()
{
    QByteArray s;
    s += ": keep-alive\r\n\r\n";
    s += R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","x_groq":{"id":"req_1"},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})"
         "\n\n";
    s += R"(data:{"choices":[{"index":0,"delta":{"reasoning":"The caller asks about hours."},"finish_reason":null}]})"
         "\r\n\r\n";
    const char *pieces[] = {"Hello", "!", " नमस्ते", ",", " we", " are", " open", " 9", "–", "6", " 🙂", "."};
    for (const char *p : pieces) {
        s += R"(data: {"choices":[{"index":0,"delta":{"content":")" + QByteArray(p) + R"("},"finish_reason":null}]})";
        s += "\r\r";
    }
    s += "event: note\nid: 42\ndata: line one\ndata: line two\n\n";
    s += R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":38,"completion_tokens":14}}})"
         "\n\n";
    s += R"(data: {"choices":[],"usage":{"prompt_tokens":38,"completion_tokens":14,"total_tokens":52}})"
         "\r\n\r\n";
    s += "data: [DONE]\n";
    return s;
}

QList<SseEvent> parseInChunks(const QByteArray &stream, QRandomGenerator &rng, int maxChunk, qsizetype maxBytes = SseParser::kDefaultMaxBytes)
{
    SseParser p(maxBytes);
    QList<SseEvent> events;
    qsizetype at = 0;
    while (at < stream.size()) {
        const qsizetype n = qMin<qsizetype>(stream.size() - at, 1 + rng.bounded(maxChunk));
        events += p.feed(QByteArrayView(stream).sliced(at, n));
        at += n;
    }
    events += p.finish();
    return events;
}

} // namespace

class TestSseFuzz : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void randomSplitsYieldTheSameEvents()
    {
        QElapsedTimer clock;
        clock.start();
        const QByteArray stream = recordedStream();
        SseParser whole;
        QList<SseEvent> expected = whole.feed(stream);
        expected += whole.finish();
        QCOMPARE(expected.size(), 18);
        QVERIFY(expected.last().isDone());
        QCOMPARE(expected[14].data, QByteArray("line one\nline two"));

        QRandomGenerator rng(20260816);
        for (int i = 0; i < 3000; ++i) {
            const int maxChunk = 1 + int(rng.bounded(i % 3 == 0 ? 4 : 80));
            const QList<SseEvent> got = parseInChunks(stream, rng, maxChunk);
            if (got != expected)
                QFAIL(qPrintable(QStringLiteral("iteration %1 (max chunk %2) differs").arg(i).arg(maxChunk)));
        }
        QVERIFY2(clock.elapsed() < 2000, "the fuzz test must stay fast");
    }

    void garbageNeverCrashesOrHangs()
    {
        QElapsedTimer clock;
        clock.start();
        QRandomGenerator rng(4242);
        static const char alphabet[] = "data: [DONE]\r\n:event id retry\xEF\xBB\xBF\xF0\x9F\x99\x82\x00{}\"";
        for (int i = 0; i < 2000; ++i) {
            QByteArray garbage(qsizetype(rng.bounded(1, 600)), Qt::Uninitialized);
            for (char &c : garbage)
                c = rng.bounded(4) == 0 ? char(rng.bounded(256)) : alphabet[rng.bounded(int(sizeof alphabet - 1))];
            // Small bound so the over-long paths run too; however it is split,
            // the same bytes give the same events (and the same error).
            SseParser whole(128);
            QList<SseEvent> expected = whole.feed(garbage);
            expected += whole.finish();
            const QList<SseEvent> got = parseInChunks(garbage, rng, 1 + int(rng.bounded(32)), 128);
            if (got != expected)
                QFAIL(qPrintable(QStringLiteral("garbage iteration %1 differs when split").arg(i)));
            for (const SseEvent &e : got)
                QVERIFY(e.data.size() <= 128);
        }
        QVERIFY2(clock.elapsed() < 2000, "the fuzz test must stay fast");
    }
};

QTEST_GUILESS_MAIN(TestSseFuzz)
#include "test_ssefuzz.moc"
