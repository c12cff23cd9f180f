// RequestFraming on its own: which byte streams may reach QHttpServer 6.4, and
// with what status the rest are refused. Each row is a list of reads.

#include "http/requestframing.h"

#include <QTest>

using apex::http::FramingLimits;
using apex::http::RequestFraming;
using Kind = RequestFraming::Verdict::Kind;

Q_DECLARE_METATYPE(QList<QByteArray>)

namespace {

FramingLimits smallLimits()
{
    FramingLimits limits;
    limits.maxRequestLineBytes = 256;
    limits.maxHeaderBytes = 1024;
    limits.maxHeaderCount = 8;
    limits.maxBodyBytes = 100;
    return limits;
}

QByteArray post(const QByteArray &body, const QByteArray &extraHeaders = {})
{
    return "POST /twilio/voice HTTP/1.1\r\nHost: a\r\n" + extraHeaders + "Content-Length: "
           + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

constexpr char kGet[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
constexpr char kUpgrade[] = "GET /twilio/media HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

} // namespace

class TestRequestFraming : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void reads_data()
    {
        QTest::addColumn<QList<QByteArray>>("reads");
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("completed");

        const int ok = int(Kind::Continue);
        const int rejected = int(Kind::Rejected);
        const int upgraded = int(Kind::Upgraded);
        using L = QList<QByteArray>;

        QTest::newRow("get") << L{kGet} << ok << 0 << 1;
        QTest::newRow("post in one read") << L{post("a=1&b=2")} << ok << 0 << 1;
        QTest::newRow("post split in head") << L{"POST /x HTTP/1.1\r\nHo", "st: a\r\nContent-Length: 3\r\n", "\r\nabc"} << ok << 0 << 1;
        QTest::newRow("post split in body") << L{post("abcdef").chopped(4), "cdef"} << ok << 0 << 1;
        QTest::newRow("body with bare LF") << L{post("a\nb")} << ok << 0 << 1;
        QTest::newRow("two requests, two reads") << L{kGet, post("x")} << ok << 0 << 2;
        QTest::newRow("leading CRLF") << L{QByteArray("\r\n") + kGet} << ok << 0 << 1;
        QTest::newRow("HTTP/1.0 without Host") << L{"GET / HTTP/1.0\r\n\r\n"} << ok << 0 << 1;
        QTest::newRow("incomplete head") << L{"GET / HTTP/1.1\r\nHost: a\r\n"} << ok << 0 << 0;
        QTest::newRow("Upgrade without Connection: upgrade") << L{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"} << ok << 0 << 1;
        QTest::newRow("zero Content-Length") << L{post(QByteArray())} << ok << 0 << 1;

        QTest::newRow("websocket") << L{kUpgrade} << upgraded << 0 << 0;
        QTest::newRow("websocket frame in the same read") << L{QByteArray(kUpgrade) + "\x81\x85garbage"} << upgraded << 0 << 0;
        QTest::newRow("after upgrade, anything") << L{kUpgrade, "\r\n\r\nContent-Length: 1\r\nContent-Length: 2\r\n"} << upgraded << 0 << 0;

        QTest::newRow("two Content-Length") << L{post("abc", "Content-Length: 3\r\n")} << rejected << 400 << 0;
        QTest::newRow("two differing Content-Length") << L{post("abc", "Content-Length: 30\r\n")} << rejected << 400 << 0;
        QTest::newRow("Content-Length list") << L{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc"} << rejected << 400 << 0;
        QTest::newRow("Content-Length sign") << L{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc"} << rejected << 400 << 0;
        QTest::newRow("Content-Length with chunked") << L{post("3\r\nabc\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n")} << rejected << 400 << 0;
        QTest::newRow("chunked alone") << L{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"} << rejected << 411 << 0;
        QTest::newRow("body over limit") << L{post(QByteArray(101, 'x'))} << rejected << 413 << 0;
        QTest::newRow("huge declared body") << L{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 200000000\r\n\r\n"} << rejected << 413 << 0;
        QTest::newRow("head over limit") << L{"GET / HTTP/1.1\r\nHost: a\r\nX: " + QByteArray(1100, 'y') + "\r\n\r\n"} << rejected << 431 << 0;
        QTest::newRow("head over limit, never ending") << L{"GET / HTTP/1.1\r\nX: " + QByteArray(600, 'y'), QByteArray(600, 'y')} << rejected << 431 << 0;
        QTest::newRow("too many headers") << L{"GET / HTTP/1.1\r\nHost: a\r\n" + QByteArray("X: 1\r\n").repeated(8) + "\r\n"} << rejected << 431 << 0;
        QTest::newRow("request line over limit") << L{"GET /" + QByteArray(300, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n"} << rejected << 414 << 0;
        QTest::newRow("request line never ending") << L{"GET /" + QByteArray(300, 'a')} << rejected << 414 << 0;
        QTest::newRow("bare LF") << L{"GET / HTTP/1.1\nHost: a\n\n"} << rejected << 400 << 0;
        QTest::newRow("bare LF in a header") << L{"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("obs-fold") << L{"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("space before colon") << L{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc"} << rejected << 400 << 0;
        QTest::newRow("NUL in a value") << L{QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX: a") + '\0' + "b\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("no colon") << L{"GET / HTTP/1.1\r\nHost: a\r\nnonsense\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("HTTP/2.0") << L{"GET / HTTP/2.0\r\nHost: a\r\n\r\n"} << rejected << 505 << 0;
        QTest::newRow("bad version") << L{"GET / HTTP/1.1x\r\nHost: a\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("extra space") << L{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("control in target") << L{"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("non-ASCII target") << L{"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("HTTP/1.1 without Host") << L{"GET / HTTP/1.1\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("two Hosts") << L{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("CONNECT") << L{"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"} << rejected << 405 << 0;
        QTest::newRow("upgrade to h2c") << L{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"} << rejected << 400 << 0;
        QTest::newRow("POST upgrade") << L{post("abc", "Upgrade: websocket\r\nConnection: upgrade\r\n")} << rejected << 400 << 0;
        QTest::newRow("pipelined") << L{QByteArray(kGet) + kGet} << rejected << 400 << 1;
        QTest::newRow("smuggled after body") << L{post("abc") + "GET /stats HTTP/1.1\r\nHost: a\r\n\r\n"} << rejected << 400 << 1;
        QTest::newRow("rejected stays rejected") << L{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", kGet} << rejected << 505 << 0;
    }

    void reads()
    {
        QFETCH(QList<QByteArray>, reads);
        QFETCH(int, kind);
        QFETCH(int, status);
        QFETCH(int, completed);
        RequestFraming framing(smallLimits());
        RequestFraming::Verdict verdict;
        for (const QByteArray &read : reads)
            verdict = framing.feed(read);
        QCOMPARE(int(verdict.kind), kind);
        QCOMPARE(verdict.status, status);
        if (kind == int(Kind::Rejected))
            QVERIFY(!verdict.reason.isEmpty());
        QCOMPARE(framing.completedRequests(), completed);
    }

    // However the bytes are cut, the same stream gets the same verdict.
    void byteByByte_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("status");
        QTest::newRow("post") << post("CallSid=CA1&From=%2B1") << int(Kind::Continue) << 0;
        QTest::newRow("two Content-Length") << post("abc", "Content-Length: 3\r\n") << int(Kind::Rejected) << 400;
        QTest::newRow("websocket") << QByteArray(kUpgrade) << int(Kind::Upgraded) << 0;
        QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\r\nHost: a\n\r\n") << int(Kind::Rejected) << 400;
    }

    void byteByByte()
    {
        QFETCH(QByteArray, stream);
        QFETCH(int, kind);
        QFETCH(int, status);
        RequestFraming framing(smallLimits());
        RequestFraming::Verdict verdict;
        for (const char c : stream)
            verdict = framing.feed(QByteArrayView(&c, 1));
        QCOMPARE(int(verdict.kind), kind);
        QCOMPARE(verdict.status, status);
    }

    void keepAliveBetweenRequests()
    {
        RequestFraming framing(smallLimits());
        QVERIFY(framing.betweenRequests());
        framing.feed("GET / HTTP/1.1\r\n");
        QVERIFY(!framing.betweenRequests());
        framing.feed("Host: a\r\nContent-Length: 2\r\n\r\n");
        QCOMPARE(framing.phase(), RequestFraming::Phase::Body);
        framing.feed("ok");
        QVERIFY(framing.betweenRequests());
        QCOMPARE(framing.completedRequests(), 1);
    }
};

QTEST_GUILESS_MAIN(TestRequestFraming)
#include "tst_requestframing.moc"
