#include "observability/logescape.h"
#include "telephony/streamtoken.h"
#include "telephony/twiliosignature.h"
#include "telephony/twimlwriter.h"

#include <QTest>
#include <QXmlStreamReader>

#include <atomic>
#include <thread>
#include <vector>

using namespace apex;

namespace {

// Twilio's own vector: twilio/twilio-python tests/unit/test_request_validator.py
// (token, URL, params, and the :443 / :80 / :1234 port, repeated-name and
// bodySHA256 expectations below). The same token/URL/params/signature appear in
// Twilio's documentation snippet TwilioDevEd/api-snippets
// security/signature_validation/signature_validation.2.x.js, shown on
// https://www.twilio.com/docs/usage/webhooks/webhooks-security. All of them were
// also reproduced with `openssl dgst -sha1 -hmac 12345 -binary | base64`.
constexpr char kDocToken[] = "12345";
const QString kDocUrl = QStringLiteral("https://mycompany.com/myapp.php?foo=1&bar=2");
constexpr char kDocBody[] =
    "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
constexpr char kDocSignature[] = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

// Our own vectors, computed in a shell as
//   printf '%s' "$URL$SORTED_NAME_VALUE_PAIRS" | openssl dgst -sha1 -hmac "$TOKEN" -binary | base64
constexpr char kOwnToken[] = "f0e1d2c3b4a5968778695a4b3c2d1e0f";
const QString kOwnUrl = QStringLiteral("https://voice.example.net/twilio/voice?site=eu-1");
// A Twilio-shaped inbound call, UTF-8 caller name, fields deliberately unsorted.
constexpr char kOwnBody[] =
    "To=%2B14155550199&From=%2B14155550100&CallSid=CA9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    "&AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&CallStatus=ringing"
    "&Direction=inbound&FromCity=SAN+FRANCISCO&CallerName=Jos%C3%A9+M%C3%BCller";

QString fromUnits(std::initializer_list<char16_t> units)
{
    QString s;
    for (char16_t u : units)
        s += QChar(u);
    return s;
}

struct ParsedTwiml
{
    bool wellFormed = false;
    QString errorString;
    QString streamUrl;
    QList<QPair<QString, QString>> parameters;
    QString say;
    bool hangup = false;
};

ParsedTwiml parseTwiml(const QByteArray &xml)
{
    ParsedTwiml parsed;
    QXmlStreamReader reader(xml);
    while (!reader.atEnd()) {
        reader.readNext();
        if (!reader.isStartElement())
            continue;
        if (reader.name() == u"Stream") {
            parsed.streamUrl = reader.attributes().value(QLatin1String("url")).toString();
        } else if (reader.name() == u"Parameter") {
            parsed.parameters.append({reader.attributes().value(QLatin1String("name")).toString(),
                                      reader.attributes().value(QLatin1String("value")).toString()});
        } else if (reader.name() == u"Say") {
            parsed.say = reader.readElementText();
        } else if (reader.name() == u"Hangup") {
            parsed.hangup = true;
        }
    }
    parsed.wellFormed = !reader.hasError();
    parsed.errorString = reader.errorString();
    return parsed;
}

} // namespace

class TestTwilioSecurity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // X-Twilio-Signature
    void signatureVectors_data();
    void signatureVectors();
    void portVariants_data();
    void portVariants();
    void urlCandidates_data();
    void urlCandidates();
    void refusals_data();
    void refusals();
    void jsonBody();
    void formBodyParsing();
    void requestUrlFromConfiguredOrigin();

    // Stream token
    void tokenRoundTrip();
    void tokenEveryTamperRefused();
    void tokenExpired();
    void tokenReplayed();
    void tokenWrongKey();
    void tokenGarbage_data();
    void tokenGarbage();
    void tokenIssueRefusesBadFields();
    void tokenNonceSetBounded();
    void tokenConcurrentVerifyConsumesOnce();
    void tokenKeys();

    // logSafe
    void logSafeEscapes_data();
    void logSafeEscapes();
    void logSafeCuts();
    void logSafeNeverEmitsControls();

    // TwiML writer
    void twimlHostile_data();
    void twimlHostile();
    void twimlPlainMatchesOldLayout();
};

// --- X-Twilio-Signature -----------------------------------------------------

void TestTwilioSecurity::signatureVectors_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("url");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("signature");

    QTest::newRow("twilio documented") << QByteArray(kDocToken) << kDocUrl << QByteArray(kDocBody)
                                       << QByteArray(kDocSignature);
    // twilio-python: a repeated name contributes every value, values sorted.
    QTest::newRow("twilio repeated name") << QByteArray(kDocToken) << kDocUrl
                                          << QByteArray("Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234")
                                          << QByteArray("IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    QTest::newRow("openssl voice webhook") << QByteArray(kOwnToken) << kOwnUrl << QByteArray(kOwnBody)
                                           << QByteArray("/opydjC9eE2GfYCNK9RiPcPZUcs=");
    // Byte order: "B" < "_x" < "a" < "ab" < "b"; a's values "10" < "2"; an
    // empty value still contributes its name. Signed "B1_xqa10a2aba b=cb".
    QTest::newRow("openssl byte order") << QByteArray(kOwnToken) << QStringLiteral("https://h.example/x")
                                        << QByteArray("b=&a=2&_x=q&B=1&ab=a+b%3Dc&a=10")
                                        << QByteArray("idnPSE5xQ1mA9KmbJF1mDknf3V0=");
    QTest::newRow("openssl explicit port")
        << QByteArray(kOwnToken) << QStringLiteral("https://voice.example.net:8443/twilio/voice?site=eu-1")
        << QByteArray(kOwnBody) << QByteArray("TIbhBn0Ki3/oJbJDtdooBAP/JCQ=");
    // The media WebSocket upgrade: the wss URL alone.
    QTest::newRow("openssl websocket upgrade") << QByteArray(kOwnToken)
                                               << QStringLiteral("wss://voice.example.net/twilio/media")
                                               << QByteArray() << QByteArray("zSpd8dTZvpGqw4+VHK2hqaiHp2o=");
}

void TestTwilioSecurity::signatureVectors()
{
    QFETCH(QByteArray, token);
    QFETCH(QString, url);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, signature);
    QCOMPARE(twilio::computeSignature(token, url, twilio::parseFormBody(body)), signature);
    QVERIFY(twilio::validFormPost(token, url, body, signature));
}

void TestTwilioSecurity::portVariants_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("url");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("signature");
    QTest::addColumn<bool>("valid");

    const QByteArray doc(kDocBody);
    // Expectations from twilio-python's test_validation_{adds,removes}_port_on_*.
    QTest::newRow("https signed with :443") << QByteArray(kDocToken) << kDocUrl << doc
                                            << QByteArray("kvajT1Ptam85bY51eRf/AJRuM3w=") << true;
    QTest::newRow("http signed with :80")
        << QByteArray(kDocToken) << QStringLiteral("http://mycompany.com/myapp.php?foo=1&bar=2") << doc
        << QByteArray("0ZXoZLH/DfblKGATFgpif+LLRf4=") << true;
    QTest::newRow("https:1234 signed without port")
        << QByteArray(kDocToken) << QStringLiteral("https://mycompany.com:1234/myapp.php?foo=1&bar=2") << doc
        << QByteArray(kDocSignature) << true;
    QTest::newRow("http:1234 signed as given")
        << QByteArray(kDocToken) << QStringLiteral("http://mycompany.com:1234/myapp.php?foo=1&bar=2") << doc
        << QByteArray("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=") << true;
    QTest::newRow("https:443 signed without port")
        << QByteArray(kDocToken) << QStringLiteral("https://mycompany.com:443/myapp.php?foo=1&bar=2") << doc
        << QByteArray(kDocSignature) << true;
    // openssl: HMAC over "wss://voice.example.net:443/twilio/media".
    QTest::newRow("wss signed with :443") << QByteArray(kOwnToken)
                                          << QStringLiteral("wss://voice.example.net/twilio/media") << QByteArray()
                                          << QByteArray("piiUbkLbu7lf6ce5GNkISU6ICEc=") << true;
    QTest::newRow("wss:443 signed without port")
        << QByteArray(kOwnToken) << QStringLiteral("wss://voice.example.net:443/twilio/media") << QByteArray()
        << QByteArray("zSpd8dTZvpGqw4+VHK2hqaiHp2o=") << true;
    // Only the port may vary, never host or scheme.
    QTest::newRow("other host") << QByteArray(kDocToken)
                                << QStringLiteral("https://mycompany.co/myapp.php?foo=1&bar=2") << doc
                                << QByteArray(kDocSignature) << false;
    QTest::newRow("http instead of https")
        << QByteArray(kDocToken) << QStringLiteral("http://mycompany.com/myapp.php?foo=1&bar=2") << doc
        << QByteArray(kDocSignature) << false;
    QTest::newRow("port moved into path")
        << QByteArray(kDocToken) << QStringLiteral("https://mycompany.com/443/myapp.php?foo=1&bar=2") << doc
        << QByteArray("kvajT1Ptam85bY51eRf/AJRuM3w=") << false;
}

void TestTwilioSecurity::portVariants()
{
    QFETCH(QByteArray, token);
    QFETCH(QString, url);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, signature);
    QFETCH(bool, valid);
    QCOMPARE(twilio::validFormPost(token, url, body, signature), valid);
}

void TestTwilioSecurity::urlCandidates_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("https no port") << QStringLiteral("https://h.example/a?b=1#f")
                                   << QStringList{QStringLiteral("https://h.example/a?b=1#f"),
                                                  QStringLiteral("https://h.example:443/a?b=1#f")};
    QTest::newRow("http port") << QStringLiteral("http://h.example:8080?x")
                               << QStringList{QStringLiteral("http://h.example:8080?x"),
                                              QStringLiteral("http://h.example?x")};
    QTest::newRow("ipv6 no port") << QStringLiteral("https://[::1]/m")
                                  << QStringList{QStringLiteral("https://[::1]/m"), QStringLiteral("https://[::1]:443/m")};
    QTest::newRow("ipv6 port") << QStringLiteral("wss://[::1]:8443/m")
                               << QStringList{QStringLiteral("wss://[::1]:8443/m"), QStringLiteral("wss://[::1]/m")};
    QTest::newRow("userinfo") << QStringLiteral("https://u:p@h/x")
                              << QStringList{QStringLiteral("https://u:p@h/x"), QStringLiteral("https://u:p@h:443/x")};
    QTest::newRow("colon in path only") << QStringLiteral("ws://h/a:1")
                                        << QStringList{QStringLiteral("ws://h/a:1"), QStringLiteral("ws://h:80/a:1")};
    QTest::newRow("unknown scheme") << QStringLiteral("ftp://h/x") << QStringList{QStringLiteral("ftp://h/x")};
    QTest::newRow("not a url") << QStringLiteral("garbage") << QStringList{QStringLiteral("garbage")};
    QTest::newRow("empty authority") << QStringLiteral("https:///x") << QStringList{QStringLiteral("https:///x")};
}

void TestTwilioSecurity::urlCandidates()
{
    QFETCH(QString, url);
    QFETCH(QStringList, expected);
    QCOMPARE(twilio::signatureUrlCandidates(url), expected);
}

void TestTwilioSecurity::refusals_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("url");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<bool>("valid");

    const QByteArray token(kDocToken);
    const QByteArray sig(kDocSignature);
    QTest::newRow("control: documented") << token << kDocUrl << QByteArray(kDocBody) << sig << true;
    // Order on the wire does not matter: Twilio's scheme sorts by name.
    QTest::newRow("fields in another order")
        << token << kDocUrl
        << QByteArray("To=%2B18005551212&Digits=1234&From=%2B14158675309&CallSid=CA1234567890ABCDE&Caller=%2B14158675309")
        << sig << true;
    QTest::newRow("surrounding whitespace in header") << token << kDocUrl << QByteArray(kDocBody)
                                                      << QByteArray(" ") + sig + " " << true;

    QTest::newRow("wrong token") << QByteArray("12346") << kDocUrl << QByteArray(kDocBody) << sig << false;
    QTest::newRow("tampered value")
        << token << kDocUrl
        << QByteArray("CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235&From=%2B14158675309&To=%2B18005551212")
        << sig << false;
    QTest::newRow("values swapped between names")
        << token << kDocUrl
        << QByteArray("CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B18005551212&To=%2B14158675309")
        << sig << false;
    QTest::newRow("extra param") << token << kDocUrl << QByteArray(kDocBody) + "&Extra=1" << sig << false;
    QTest::newRow("repeated param")
        << token << kDocUrl << QByteArray(kDocBody) + "&From=%2B14158675309" << sig << false;
    QTest::newRow("missing param")
        << token << kDocUrl
        << QByteArray("CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309") << sig
        << false;
    QTest::newRow("plus decoded as space")
        << token << kDocUrl
        << QByteArray("CallSid=CA1234567890ABCDE&Caller=+14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212")
        << sig << false;
    QTest::newRow("query changed") << token << QStringLiteral("https://mycompany.com/myapp.php?foo=2&bar=2")
                                   << QByteArray(kDocBody) << sig << false;
    QTest::newRow("empty header") << token << kDocUrl << QByteArray(kDocBody) << QByteArray() << false;
    QTest::newRow("blank header") << token << kDocUrl << QByteArray(kDocBody) << QByteArray("   ") << false;
    QTest::newRow("truncated header") << token << kDocUrl << QByteArray(kDocBody) << sig.left(sig.size() - 1)
                                      << false;
    QTest::newRow("lowercased header") << token << kDocUrl << QByteArray(kDocBody) << sig.toLower() << false;
    QTest::newRow("header is raw digest")
        << token << kDocUrl << QByteArray(kDocBody) << QByteArray::fromBase64(sig) << false;
    // An empty key is public knowledge: even its correct signature is refused.
    QTest::newRow("empty token")
        << QByteArray() << kDocUrl << QByteArray(kDocBody)
        << twilio::computeSignature(QByteArrayView(), kDocUrl, twilio::parseFormBody(kDocBody)) << false;
}

void TestTwilioSecurity::refusals()
{
    QFETCH(QByteArray, token);
    QFETCH(QString, url);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, header);
    QFETCH(bool, valid);
    QCOMPARE(twilio::validFormPost(token, url, body, header), valid);
}

void TestTwilioSecurity::jsonBody()
{
    // twilio-python test_validation_of_body_succeeds; the hash is sha256sum of the body.
    const QByteArray body = R"({"property": "value", "boolean": true})";
    const QString url =
        kDocUrl + QStringLiteral("&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");
    const QByteArray sig = "a9nBmqA0ju/hNViExpshrM61xv4=";
    QVERIFY(twilio::validJsonPost(kDocToken, url, body, sig));

    const QByteArray otherBody = R"({"property": "value", "boolean": false})";
    QVERIFY(!twilio::validJsonPost(kDocToken, url, otherBody, sig));
    QVERIFY(!twilio::validJsonPost(kDocToken, url, body, "a9nBmqA0ju/hNViExpshrM61xv5="));
    QVERIFY(!twilio::validJsonPost("54321", url, body, sig));
    // Without bodySHA256 the body is unauthenticated, whatever the URL signature says.
    QVERIFY(!twilio::validJsonPost(kDocToken, kDocUrl, body,
                                   twilio::computeSignature(kDocToken, kDocUrl, {})));
    const QString twice = url + QStringLiteral("&bodySHA256=00");
    QVERIFY(!twilio::validJsonPost(kDocToken, twice, body, twilio::computeSignature(kDocToken, twice, {})));
}

void TestTwilioSecurity::formBodyParsing()
{
    const twilio::FormParams params =
        twilio::parseFormBody("a=1+2%2B3&b=%26%3D&&c&d=&%C3%A9=%E2%82%AC&a=x&=v&e=%ZZ");
    const twilio::FormParams expected{
        {QStringLiteral("a"), QStringLiteral("1 2+3")},
        {QStringLiteral("b"), QStringLiteral("&=")},
        {QStringLiteral("c"), QString()},
        {QStringLiteral("d"), QString()},
        {QString::fromUtf8("\xC3\xA9"), QString::fromUtf8("\xE2\x82\xAC")},
        {QStringLiteral("a"), QStringLiteral("x")},
        {QString(), QStringLiteral("v")},
        {QStringLiteral("e"), QStringLiteral("%ZZ")},
    };
    QCOMPARE(params, expected);
    QVERIFY(twilio::parseFormBody("").isEmpty());
    QVERIFY(twilio::parseFormBody("&&&").isEmpty());
}

void TestTwilioSecurity::requestUrlFromConfiguredOrigin()
{
    QCOMPARE(twilio::requestUrl(u"https://voice.example.net/", "/twilio/voice?site=eu-1&x=%2F"),
             QStringLiteral("https://voice.example.net/twilio/voice?site=eu-1&x=%2F"));
    QCOMPARE(twilio::requestUrl(u"wss://voice.example.net:8443", "/twilio/media"),
             QStringLiteral("wss://voice.example.net:8443/twilio/media"));
    QCOMPARE(twilio::requestUrl(u"https://h", ""), QStringLiteral("https://h/"));
}

// --- Stream token -----------------------------------------------------------

namespace {
constexpr qint64 kNow = 1'700'000'000'000;
const QString kTenant = QStringLiteral("acme");
const QString kCallSid = QStringLiteral("CA9f8e7d6c5b4a39281706f5e4d3c2b1a0");
} // namespace

void TestTwilioSecurity::tokenRoundTrip()
{
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey());
    const QString token = issuer.issue(kTenant, kCallSid, kNow);
    QVERIFY(!token.isEmpty());
    // Fits a <Parameter> (name + value under 500 characters) with room to spare.
    QVERIFY2(token.size() < 200, qPrintable(QString::number(token.size())));
    for (const QChar c : token)
        QVERIFY(c.isLetterOrNumber() || c == u'-' || c == u'_');

    const StreamTokenCheck check = issuer.verify(token, kNow + 1);
    QCOMPARE(streamTokenReasonName(check.reason), QLatin1String("ok"));
    QVERIFY(check.ok());
    QCOMPARE(check.tenantId, kTenant);
    QCOMPARE(check.callSid, kCallSid);
    QCOMPARE(check.expiresAtUnixMs, kNow + StreamTokenLimits{}.lifetimeMs);

    // The token carries tenant names opaquely, hostile ones included.
    const QString odd = QStringLiteral("t\u00e9nant\r\n<&>") + QChar(0x202E);
    const StreamTokenCheck oddCheck = issuer.verify(issuer.issue(odd, kCallSid, kNow), kNow);
    QVERIFY(oddCheck.ok());
    QCOMPARE(oddCheck.tenantId, odd);

    // Two tokens for the same call differ (the nonce), so both can be used once.
    QVERIFY(issuer.issue(kTenant, kCallSid, kNow) != issuer.issue(kTenant, kCallSid, kNow));
}

void TestTwilioSecurity::tokenEveryTamperRefused()
{
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey());
    const QString token = issuer.issue(kTenant, kCallSid, kNow);
    const QString alphabet =
        QStringLiteral("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.");
    int tried = 0;
    for (qsizetype i = 0; i < token.size(); ++i) {
        for (const QChar replacement : alphabet) {
            if (replacement == token.at(i))
                continue;
            QString tampered = token;
            tampered[i] = replacement;
            const StreamTokenCheck check = issuer.verify(tampered, kNow);
            QVERIFY2(!check.ok(), qPrintable(QStringLiteral("position %1 -> %2").arg(i).arg(replacement)));
            QVERIFY(check.tenantId.isEmpty() && check.callSid.isEmpty());
            ++tried;
        }
        QVERIFY(!issuer.verify(token.left(i), kNow).ok());
        QVERIFY(!issuer.verify(token.mid(i + 1), kNow).ok());
    }
    QVERIFY(!issuer.verify(token + u'A', kNow).ok());
    QVERIFY(!issuer.verify(token + u'=', kNow).ok());
    QVERIFY(tried > 1000);
    // None of that consumed the real token.
    QCOMPARE(issuer.consumedNonceCount(), 0);
    QVERIFY(issuer.verify(token, kNow).ok());
}

void TestTwilioSecurity::tokenExpired()
{
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey(), StreamTokenLimits{5'000, 100});
    const QString token = issuer.issue(kTenant, kCallSid, kNow);
    QCOMPARE(int(issuer.verify(token, kNow + 5'000).reason), int(StreamTokenReason::Expired));
    QCOMPARE(int(issuer.verify(token, kNow + 86'400'000).reason), int(StreamTokenReason::Expired));
    // Refusing as Expired does not consume it.
    QCOMPARE(int(issuer.verify(token, kNow + 4'999).reason), int(StreamTokenReason::Ok));
}

void TestTwilioSecurity::tokenReplayed()
{
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey());
    const QString token = issuer.issue(kTenant, kCallSid, kNow);
    QVERIFY(issuer.verify(token, kNow).ok());
    const StreamTokenCheck second = issuer.verify(token, kNow + 10);
    QCOMPARE(int(second.reason), int(StreamTokenReason::Replayed));
    QVERIFY(second.tenantId.isEmpty());
    QCOMPARE(streamTokenReasonName(second.reason), QLatin1String("replayed"));
    // Another token for the same call is a separate use.
    QVERIFY(issuer.verify(issuer.issue(kTenant, kCallSid, kNow), kNow).ok());
}

void TestTwilioSecurity::tokenWrongKey()
{
    StreamTokenIssuer issuer(StreamTokenIssuer::derivedKey("token-a"));
    StreamTokenIssuer other(StreamTokenIssuer::derivedKey("token-b"));
    const QString token = issuer.issue(kTenant, kCallSid, kNow);
    QCOMPARE(int(other.verify(token, kNow).reason), int(StreamTokenReason::BadSignature));
    // Same secret, separate issuer (another process): accepted.
    StreamTokenIssuer sibling(StreamTokenIssuer::derivedKey("token-a"));
    QVERIFY(sibling.verify(token, kNow).ok());
}

void TestTwilioSecurity::tokenGarbage_data()
{
    QTest::addColumn<QString>("token");
    QTest::addColumn<int>("reason");

    const int malformed = int(StreamTokenReason::Malformed);
    QTest::newRow("empty") << QString() << malformed;
    QTest::newRow("one char") << QStringLiteral("A") << malformed;
    QTest::newRow("padding only") << QStringLiteral("====") << malformed;
    QTest::newRow("punctuation") << QStringLiteral("!!!!$$$$****") << malformed;
    QTest::newRow("non-ascii") << QStringLiteral("h\u00e9llo\u2028world") << malformed;
    QTest::newRow("nul") << QString(64, QChar(0)) << malformed;
    QTest::newRow("1 MB of A") << QString(1 << 20, u'A') << malformed;
    QTest::newRow("1 MB of junk") << QString(1 << 20, u'\u00ff') << malformed;
    QTest::newRow("short valid base64")
        << QString::fromLatin1(QByteArray("hello").toBase64(QByteArray::Base64UrlEncoding)) << malformed;
    QTest::newRow("json") << QStringLiteral("{\"tenant\":\"acme\",\"callSid\":\"CA1\"}") << malformed;
    QTest::newRow("jwt-looking") << QStringLiteral("eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJhY21lIn0.") << malformed;
    // Right size, right alphabet, but not ours.
    QByteArray junk(120, '\0');
    for (qsizetype i = 0; i < junk.size(); ++i)
        junk[i] = char(i * 37 + 11);
    QTest::newRow("random bytes")
        << QString::fromLatin1(junk.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals))
        << int(StreamTokenReason::BadSignature);
}

void TestTwilioSecurity::tokenGarbage()
{
    QFETCH(QString, token);
    QFETCH(int, reason);
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey());
    const StreamTokenCheck check = issuer.verify(token, kNow);
    QCOMPARE(int(check.reason), reason);
    QVERIFY(check.tenantId.isEmpty() && check.callSid.isEmpty());
    QCOMPARE(issuer.consumedNonceCount(), 0);
}

void TestTwilioSecurity::tokenIssueRefusesBadFields()
{
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey());
    QVERIFY(issuer.issue(QString(), kCallSid, kNow).isEmpty());
    QVERIFY(issuer.issue(kTenant, QString(), kNow).isEmpty());
    QVERIFY(issuer.issue(QString(256, u'x'), kCallSid, kNow).isEmpty());
    QVERIFY(!issuer.issue(QString(255, u'x'), kCallSid, kNow).isEmpty());
    // 255 UTF-8 bytes is the bound, not 255 characters.
    QVERIFY(issuer.issue(QString(128, QChar(0x00e9)), kCallSid, kNow).isEmpty());
}

void TestTwilioSecurity::tokenNonceSetBounded()
{
    const StreamTokenLimits limits{1'000, 50};
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey(), limits);

    for (int i = 0; i < 50; ++i)
        QVERIFY(issuer.verify(issuer.issue(kTenant, kCallSid, kNow), kNow).ok());
    QCOMPARE(issuer.consumedNonceCount(), 50);
    // Full: refused, and the refused token stays usable once there is room.
    const QString waiting = issuer.issue(kTenant, kCallSid, kNow + 500);
    QCOMPARE(int(issuer.verify(waiting, kNow + 500).reason), int(StreamTokenReason::ReplayCacheFull));
    QCOMPARE(issuer.consumedNonceCount(), 50);

    // The first fifty expire at kNow + 1000 and are purged.
    QVERIFY(issuer.verify(waiting, kNow + 1'000).ok());
    QCOMPARE(issuer.consumedNonceCount(), 1);

    // A steady stream of calls never grows the set past the cap.
    qint64 now = kNow + 1'000;
    int refusedFull = 0;
    for (int i = 0; i < 10'000; ++i) {
        now += 7;
        const StreamTokenCheck check = issuer.verify(issuer.issue(kTenant, kCallSid, now), now);
        if (!check.ok()) {
            QCOMPARE(int(check.reason), int(StreamTokenReason::ReplayCacheFull));
            ++refusedFull;
        }
        QVERIFY(issuer.consumedNonceCount() <= limits.maxConsumedNonces);
    }
    // 1000 ms lifetime / 7 ms per call ≈ 143 live tokens wanted, 50 allowed.
    QVERIFY(refusedFull > 0);
    QVERIFY(refusedFull < 10'000);
}

void TestTwilioSecurity::tokenConcurrentVerifyConsumesOnce()
{
    StreamTokenIssuer issuer(StreamTokenIssuer::randomKey());
    QStringList tokens;
    for (int i = 0; i < 200; ++i)
        tokens.append(issuer.issue(kTenant, QStringLiteral("CA%1").arg(i), kNow));

    std::atomic<int> accepted{0};
    std::atomic<int> replayed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (const QString &token : std::as_const(tokens)) {
                const StreamTokenCheck check = issuer.verify(token, kNow);
                if (check.ok())
                    ++accepted;
                else if (check.reason == StreamTokenReason::Replayed)
                    ++replayed;
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    QCOMPARE(accepted.load(), 200);
    QCOMPARE(replayed.load(), 3 * 200);
}

void TestTwilioSecurity::tokenKeys()
{
    const QByteArray a = StreamTokenIssuer::randomKey();
    QCOMPARE(a.size(), 32);
    QVERIFY(a != StreamTokenIssuer::randomKey());
    QCOMPARE(StreamTokenIssuer::derivedKey("secret"), StreamTokenIssuer::derivedKey("secret"));
    QVERIFY(StreamTokenIssuer::derivedKey("secret") != StreamTokenIssuer::derivedKey("secreu"));
    QVERIFY(!StreamTokenIssuer::derivedKey("secret").contains("secret"));
}

// --- logSafe ----------------------------------------------------------------

void TestTwilioSecurity::logSafeEscapes_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");

    QTest::newRow("plain ascii") << QStringLiteral("+14155550100 acme /twilio/voice?x=1")
                                 << QStringLiteral("+14155550100 acme /twilio/voice?x=1");
    QTest::newRow("non-ascii kept") << QStringLiteral("Jos\u00e9 \u4e2d\u6587") << QStringLiteral("Jos\u00e9 \u4e2d\u6587");
    QTest::newRow("emoji pair kept") << fromUnits({u'a', 0xD83D, 0xDE00}) << fromUnits({u'a', 0xD83D, 0xDE00});
    QTest::newRow("crlf") << QStringLiteral("a\r\nb") << QStringLiteral("a\\r\\nb");
    QTest::newRow("forged line")
        << QStringLiteral("+1555\n2024-01-01 12:00:00 [info] admin logged in")
        << QStringLiteral("+1555\\n2024-01-01 12:00:00 [info] admin logged in");
    QTest::newRow("tab") << QStringLiteral("a\tb") << QStringLiteral("a\\tb");
    QTest::newRow("escape sequence") << QStringLiteral("\x1b[31mred\x1b[0m") << QStringLiteral("\\x1B[31mred\\x1B[0m");
    QTest::newRow("nul") << fromUnits({u'a', 0, u'b'}) << QStringLiteral("a\\x00b");
    QTest::newRow("bell and backspace") << QStringLiteral("\a\b") << QStringLiteral("\\x07\\x08");
    QTest::newRow("del") << QStringLiteral("\x7f") << QStringLiteral("\\x7F");
    QTest::newRow("c1 nel and csi") << fromUnits({0x85, 0x9b}) << QStringLiteral("\\x85\\x9B");
    QTest::newRow("backslash doubled") << QStringLiteral("a\\nb") << QStringLiteral("a\\\\nb");
    QTest::newRow("line separator") << fromUnits({u'a', 0x2028, u'b', 0x2029}) << QStringLiteral("a\\u{2028}b\\u{2029}");
    QTest::newRow("bidi override") << fromUnits({0x202E, u'x', 0x202C}) << QStringLiteral("\\u{202E}x\\u{202C}");
    QTest::newRow("bidi embeddings") << fromUnits({0x202A, 0x202B, 0x202D})
                                     << QStringLiteral("\\u{202A}\\u{202B}\\u{202D}");
    QTest::newRow("bidi isolates") << fromUnits({0x2066, 0x2067, 0x2068, 0x2069})
                                   << QStringLiteral("\\u{2066}\\u{2067}\\u{2068}\\u{2069}");
    QTest::newRow("bidi marks") << fromUnits({0x200E, 0x200F, 0x061C}) << QStringLiteral("\\u{200E}\\u{200F}\\u{061C}");
    QTest::newRow("lone surrogates") << fromUnits({0xD800, u'x', 0xDC00}) << QStringLiteral("\\u{D800}x\\u{DC00}");
    QTest::newRow("empty") << QString() << QString();
}

void TestTwilioSecurity::logSafeEscapes()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(logSafe(input), expected);
}

void TestTwilioSecurity::logSafeCuts()
{
    QCOMPARE(logSafe(QString(200, u'a')), QString(200, u'a'));
    QCOMPARE(logSafe(QString(500, u'a')), QString(200, u'a') + QStringLiteral("\u2026(+300 chars)"));
    QCOMPARE(logSafe(QStringLiteral("abcdef"), 3), QStringLiteral("abc\u2026(+3 chars)"));
    QCOMPARE(logSafe(QStringLiteral("abcdef"), 0), QStringLiteral("\u2026(+6 chars)"));
    QCOMPARE(logSafe(QString(5000, u'a'), -1), QString(5000, u'a'));
    // The cut counts input characters, so escapes cannot smuggle more in.
    QCOMPARE(logSafe(QStringLiteral("\n\n\n\n"), 2), QStringLiteral("\\n\\n\u2026(+2 chars)"));
    // Never half a surrogate pair.
    QCOMPARE(logSafe(fromUnits({u'a', 0xD83D, 0xDE00, u'b'}), 2), QStringLiteral("a\u2026(+3 chars)"));
    QCOMPARE(logSafe(fromUnits({u'a', 0xD83D, 0xDE00, u'b'}), 3), fromUnits({u'a', 0xD83D, 0xDE00}) + QStringLiteral("\u2026(+1 chars)"));
    // A megabyte from the wire becomes a bounded log field.
    QVERIFY(logSafe(QString(1 << 20, QChar(0x1b))).size() < 200 * 4 + 32);
}

void TestTwilioSecurity::logSafeNeverEmitsControls()
{
    for (char32_t c = 0; c <= 0xFFFF; ++c) {
        const QString out = logSafe(QString(QChar(char16_t(c))));
        for (const QChar o : out) {
            const char16_t u = o.unicode();
            const bool control = u < 0x20 || (u >= 0x7F && u <= 0x9F) || u == 0x2028 || u == 0x2029
                || (u >= 0x202A && u <= 0x202E) || (u >= 0x2066 && u <= 0x2069) || o.isSurrogate();
            QVERIFY2(!control, qPrintable(QString::number(uint(c), 16)));
        }
    }
}

// --- TwiML writer -----------------------------------------------------------

void TestTwilioSecurity::twimlHostile_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected"); // input minus what XML 1.0 forbids

    QTest::newRow("plain") << QStringLiteral("+14155550100") << QStringLiteral("+14155550100");
    QTest::newRow("cr lf tab kept") << QStringLiteral("a\r\nb\tc\rd") << QStringLiteral("a\r\nb\tc\rd");
    const QString markup = QStringLiteral("</Stream><Say>hi</Say>&amp;<!-- \"x\" 'y' ]]>");
    QTest::newRow("markup") << markup << markup;
    QTest::newRow("c0 controls") << QStringLiteral("a\x01" "b\x1b[0m\x1f" "c") << QStringLiteral("ab[0mc");
    QTest::newRow("nul") << fromUnits({u'a', 0, u'b'}) << QStringLiteral("ab");
    QTest::newRow("del and c1 allowed") << fromUnits({u'a', 0x7f, 0x85, u'b'}) << fromUnits({u'a', 0x7f, 0x85, u'b'});
    QTest::newRow("fffe ffff") << fromUnits({u'a', 0xFFFE, u'b', 0xFFFF}) << QStringLiteral("ab");
    QTest::newRow("fffd kept") << fromUnits({0xFFFD}) << fromUnits({0xFFFD});
    QTest::newRow("lone high surrogate") << fromUnits({u'a', 0xD800, u'b'}) << QStringLiteral("ab");
    QTest::newRow("lone low surrogate") << fromUnits({0xDC00, u'b'}) << QStringLiteral("b");
    QTest::newRow("high surrogate at end") << fromUnits({u'a', 0xDBFF}) << QStringLiteral("a");
    QTest::newRow("swapped pair") << fromUnits({0xDE00, 0xD83D}) << QString();
    QTest::newRow("emoji pair kept") << fromUnits({0xD83D, 0xDE00}) << fromUnits({0xD83D, 0xDE00});
    QTest::newRow("bidi kept") << fromUnits({0x202E, u'x'}) << fromUnits({0x202E, u'x'});

    const QString piece = QStringLiteral("<&\"'>\r\n") + QChar(0x01) + QChar(0xFFFF) + QChar(0xD800)
        + QStringLiteral("ok\u00e9");
    const QString kept = QStringLiteral("<&\"'>\r\nok\u00e9");
    QString big;
    QString bigExpected;
    while (big.size() < 10 * 1024) {
        big += piece;
        bigExpected += kept;
    }
    QTest::newRow("10 KB hostile") << big << bigExpected;
    QTest::newRow("10 KB plain") << QString(10 * 1024, u'x') << QString(10 * 1024, u'x');
}

void TestTwilioSecurity::twimlHostile()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(twiml::withoutXmlForbiddenChars(input), expected);

    const QByteArray stream = twiml::connectStream(QStringLiteral("wss://h/twilio/media") + input,
                                                   {{QStringLiteral("from"), input},
                                                    {input, QStringLiteral("v")},
                                                    {QStringLiteral("token"), QStringLiteral("abc")}});
    const ParsedTwiml parsed = parseTwiml(stream);
    QVERIFY2(parsed.wellFormed, qPrintable(parsed.errorString));
    QCOMPARE(parsed.streamUrl, QStringLiteral("wss://h/twilio/media") + expected);
    QCOMPARE(parsed.parameters.size(), 3);
    QCOMPARE(parsed.parameters.at(0).first, QStringLiteral("from"));
    QCOMPARE(parsed.parameters.at(0).second, expected);
    QCOMPARE(parsed.parameters.at(1).first, expected);
    QCOMPARE(parsed.parameters.at(2).second, QStringLiteral("abc"));

    const ParsedTwiml say = parseTwiml(twiml::sayAndHangUp(input));
    QVERIFY2(say.wellFormed, qPrintable(say.errorString));
    // Element text goes through XML end-of-line handling: CR LF and CR read back as LF.
    QString spoken = expected;
    spoken.replace(QStringLiteral("\r\n"), QStringLiteral("\n")).replace(u'\r', u'\n');
    QCOMPARE(say.say, spoken);
    QVERIFY(say.hangup);
}

void TestTwilioSecurity::twimlPlainMatchesOldLayout()
{
    // Byte for byte what twiml.cpp wrote for ordinary values, so the swap
    // changes nothing on the wire for them. Differences, all equally valid XML:
    // an apostrophe is no longer written as &apos;, and a Stream without
    // parameters is written as an empty element.
    // (Expected documents live in variables: moc mis-reads raw strings inside
    // macro arguments.)
    const QByteArray expectedStream =
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://h/twilio/media">)"
        R"(<Parameter name="tenant" value="acme"/><Parameter name="from" value="+15550001111"/>)"
        R"(</Stream></Connect></Response>)";
    const QByteArray expectedBare =
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://h/m"/></Connect></Response>)";
    const QByteArray expectedSay = R"(<?xml version="1.0" encoding="UTF-8"?><Response>)"
                                   R"(<Say>Sorry, this number is not in service.</Say><Hangup/></Response>)";
    const QByteArray expectedEscapes = R"(<Parameter name="t" value="a&amp;b&quot;&lt;c&gt;"/>)";

    const QByteArray stream = twiml::connectStream(QStringLiteral("wss://h/twilio/media"),
                                                   {{QStringLiteral("tenant"), QStringLiteral("acme")},
                                                    {QStringLiteral("from"), QStringLiteral("+15550001111")}});
    QCOMPARE(stream, expectedStream);
    QCOMPARE(twiml::connectStream(QStringLiteral("wss://h/m"), {}), expectedBare);
    QCOMPARE(twiml::sayAndHangUp(QStringLiteral("Sorry, this number is not in service.")), expectedSay);
    const QByteArray escaped = twiml::connectStream(QStringLiteral("wss://h/m"),
                                                    {{QStringLiteral("t"), QStringLiteral("a&b\"<c>")}});
    QVERIFY(escaped.contains(expectedEscapes));
}

QTEST_GUILESS_MAIN(TestTwilioSecurity)
#include "tst_twiliosecurity.moc"
