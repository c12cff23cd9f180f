// The WhatsApp channel's small parts, each against what WAHA documents.

#include "tenancy/tenantregistry.h"
#include "whatsapp/dedupewindow.h"
#include "whatsapp/replychunker.h"
#include "whatsapp/wahaclient.h"
#include "whatsapp/wahaevent.h"
#include "whatsapp/webhooksignature.h"
#include "whatsapp/whatsappchannel.h"

#include <QTest>

using namespace apex;
using namespace apex::waha;

class TestWhatsAppParts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void signatureMatchesWahaDocsVector()
    {
        // WAHA's docs (how-to/security), recomputed in protocols.md §6.
        const QByteArray body = R"({"event":"message","session":"default","engine":"WEBJS"})";
        const QByteArray expected = "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89";
        QCOMPARE(sign("my-secret-key", body), expected);
        QCOMPARE(checkSignature("my-secret-key", body, expected, "sha512"), SignatureCheck::Valid);
        QCOMPARE(checkSignature("my-secret-key", body, expected.toUpper(), "SHA512"), SignatureCheck::Valid);
        QCOMPARE(checkSignature("my-secret-key", body, expected, ""), SignatureCheck::Valid);
    }

    void signatureRefusals()
    {
        const QByteArray body = R"({"event":"message"})";
        const QByteArray good = sign("k", body);
        QCOMPARE(checkSignature("k", body, "", "sha512"), SignatureCheck::Missing);
        QCOMPARE(checkSignature("other", body, good, "sha512"), SignatureCheck::Wrong);
        QCOMPARE(checkSignature("k", body + " ", good, "sha512"), SignatureCheck::Wrong); // raw bytes, not JSON
        QCOMPARE(checkSignature("k", body, good.left(64), "sha512"), SignatureCheck::Wrong);
        QCOMPARE(checkSignature("k", body, good, "sha256"), SignatureCheck::UnsupportedAlgorithm);
    }

    void parsesMessageKinds_data()
    {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<int>("kind");
        QTest::newRow("text") << QByteArray(R"({"id":"m1","from":"911@c.us","fromMe":false,"body":"Hi","hasMedia":false})") << int(InboundKind::Text);
        QTest::newRow("voice note") << QByteArray(R"({"id":"m1","from":"911@c.us","fromMe":false,"body":"","hasMedia":true,"media":null})") << int(InboundKind::NotText);
        QTest::newRow("image with caption") << QByteArray(R"({"id":"m1","from":"911@c.us","body":"look","hasMedia":true})") << int(InboundKind::NotText);
        QTest::newRow("location (no body)") << QByteArray(R"({"id":"m1","from":"911@c.us","body":""})") << int(InboundKind::NotText);
        QTest::newRow("from me") << QByteArray(R"({"id":"m1","from":"911@c.us","fromMe":true,"body":"Hi"})") << int(InboundKind::FromMe);
        QTest::newRow("group") << QByteArray(R"({"id":"m1","from":"1203630@g.us","body":"Hi"})") << int(InboundKind::Group);
        QTest::newRow("status") << QByteArray(R"({"id":"m1","from":"status@broadcast","body":"Hi"})") << int(InboundKind::StatusBroadcast);
    }

    void parsesMessageKinds()
    {
        QFETCH(QByteArray, payload);
        QFETCH(int, kind);
        const QByteArray body = R"({"id":"evt_1","event":"message","session":"default","me":{"id":"15550100200@c.us"},"payload":)" + payload + "}";
        ParseError error;
        const auto m = parseEvent(body, &error);
        QVERIFY2(m, qPrintable(error.message));
        QCOMPARE(int(m->kind), kind);
        QCOMPARE(m->session, QStringLiteral("default"));
        QCOMPARE(m->meId, QStringLiteral("15550100200@c.us"));
        QCOMPARE(m->dedupeId(), QStringLiteral("m1"));
    }

    void parseRefusesWhatCannotBeAnswered()
    {
        ParseError error;
        QVERIFY(!parseEvent("{not json", &error));
        QVERIFY(error.message.contains(QLatin1String("invalid JSON")));
        QVERIFY(!parseEvent("[1,2]", &error));
        QVERIFY(!parseEvent(R"({"session":"default"})", &error));
        QVERIFY(!parseEvent(R"({"event":"message","session":"default"})", &error));
        QVERIFY(!parseEvent(R"({"event":"message","session":"default","payload":{"from":"1@c.us","body":"x"}})", &error)); // no id at all
        // Older builds omit the envelope id: the payload id suffices.
        QVERIFY(parseEvent(R"({"event":"message","session":"default","payload":{"id":"m","from":"1@c.us","body":"x"}})", &error));
        const auto other = parseEvent(R"({"event":"session.status","session":"default","payload":{"status":"WORKING"}})", &error);
        QVERIFY(other);
        QCOMPARE(other->kind, InboundKind::OtherEvent);
    }

    void dedupeWindowIsBoundedAndExpires()
    {
        qint64 now = 0;
        DedupeWindow window(3, 1000, [&now] { return now; });
        QVERIFY(window.firstSighting(QStringLiteral("a")));
        QVERIFY(!window.firstSighting(QStringLiteral("a")));
        QVERIFY(window.firstSighting(QStringLiteral("b")));
        QVERIFY(window.firstSighting(QStringLiteral("c")));
        QVERIFY(window.firstSighting(QStringLiteral("d"))); // "a" goes: capacity 3
        QCOMPARE(window.size(), 3);
        QVERIFY(window.firstSighting(QStringLiteral("a")));
        now = 999;
        QVERIFY(!window.firstSighting(QStringLiteral("d")));
        now = 2000;
        QVERIFY(window.firstSighting(QStringLiteral("d"))); // window passed
        QCOMPARE(window.size(), 1);
    }

    void splitsLongRepliesAtSentenceEnds()
    {
        QCOMPARE(splitForWhatsApp(QStringLiteral("  Short reply.  "), 4096), QStringList{QStringLiteral("Short reply.")});
        QVERIFY(splitForWhatsApp(QStringLiteral("   "), 4096).isEmpty());

        QString sentence = QStringLiteral("We are open from nine to six, Monday to Saturday, and the fee is 3.5 thousand. ");
        QString text;
        while (text.size() < 10000)
            text += sentence;
        const QStringList pieces = splitForWhatsApp(text, 4096);
        QCOMPARE(pieces.size(), 3);
        for (const QString &piece : pieces) {
            QVERIFY(piece.size() <= 4096);
            QVERIFY2(piece.endsWith(QLatin1Char('.')), qPrintable(piece.right(20)));
            QVERIFY(piece.startsWith(QLatin1String("We are open")));
        }
        QCOMPARE(pieces.join(QLatin1Char(' ')), text.trimmed());

        // Hindi ends sentences with the danda; a text without ends is cut at spaces.
        const QStringList hindi = splitForWhatsApp(QStringLiteral("नमस्ते। आप कैसे हैं? ठीक है।"), 12);
        QCOMPARE(hindi.first(), QStringLiteral("नमस्ते।"));
        const QStringList words = splitForWhatsApp(QStringLiteral("aaaa bbbb cccc dddd"), 10);
        QCOMPARE(words, (QStringList{QStringLiteral("aaaa bbbb"), QStringLiteral("cccc dddd")}));
        // No space at all: cut hard, never between the halves of a surrogate pair.
        const QString emoji = QString(QStringLiteral("a")) + QString::fromUtf8("😀😀😀");
        for (const QString &piece : splitForWhatsApp(emoji, 2))
            QVERIFY(!piece.back().isHighSurrogate());
    }

    void classifiesWahaAnswers()
    {
        QCOMPARE(WahaClient::classify(201, "{}").kind, SendOutcome::Kind::Delivered);
        const QByteArray core = R"({"message":"WAHA Core support only 'default' session. You tried to access 'sales' session (base64: c2FsZXM=). If you want to run more then one WhatsApp account - please get WAHA PLUS version. Check this out: https://waha.devlike.pro/","error":"Unprocessable Entity","statusCode":422})";
        QCOMPARE(WahaClient::classify(422, core).kind, SendOutcome::Kind::CoreLimit);
        const QByteArray core2024 = R"({"message":"WAHA Core support only 'default' session. If you want to run more then one WhatsApp account - please get WAHA PLUS version. Check this out: https://waha.devlike.pro/","error":"Unprocessable Entity","statusCode":422})";
        QCOMPARE(WahaClient::classify(422, core2024).kind, SendOutcome::Kind::CoreLimit);
        const QByteArray stopped = R"({"error":"Session status is not as expected. Try again later or restart the session","session":"default","status":"STOPPED","expected":["WORKING"]})";
        QCOMPARE(WahaClient::classify(422, stopped).kind, SendOutcome::Kind::SessionNotWorking);
        const SendOutcome storm = WahaClient::classify(500, R"({"statusCode":500,"message":"Internal server error"})");
        QCOMPARE(storm.kind, SendOutcome::Kind::Failed);
        QCOMPARE(storm.failure.kind, FailureKind::ServerError);
        QCOMPARE(storm.detail, QStringLiteral("Internal server error"));
        QCOMPARE(WahaClient::classify(401, R"({"message":"Unauthorized","statusCode":401})").failure.kind, FailureKind::Unauthorized);
        QCOMPARE(WahaClient::classify(400, R"({"message":"chatId must be a string"})").kind, SendOutcome::Kind::Rejected);
    }

    void resolvesTenantsBySessionThenNumber()
    {
        Tenant clinic;
        clinic.id = QStringLiteral("clinic");
        clinic.numbers = {QStringLiteral("+1 555 010 0200")};
        Tenant sales;
        sales.id = QStringLiteral("sales");
        sales.whatsappSession = QStringLiteral("sales");
        TenantRegistry tenants({clinic, sales}, QStringLiteral("clinic"));
        QCOMPARE(WhatsAppChannel::resolveTenant(tenants, QStringLiteral("sales"), QStringLiteral("999@c.us"))->id, sales.id);
        QCOMPARE(WhatsAppChannel::resolveTenant(tenants, QStringLiteral("default"), QStringLiteral("15550100200@c.us"))->id, clinic.id);
        // Someone names a session: an unknown session and number is nobody's.
        QVERIFY(!WhatsAppChannel::resolveTenant(tenants, QStringLiteral("other"), QStringLiteral("999@c.us")));
        // Nobody names one: the default tenant answers, as for calls.
        TenantRegistry single({clinic}, QStringLiteral("clinic"));
        QCOMPARE(WhatsAppChannel::resolveTenant(single, QStringLiteral("default"), QStringLiteral("999@lid"))->id, clinic.id);
    }
};

QTEST_GUILESS_MAIN(TestWhatsAppParts)
#include "test_whatsapp_parts.moc"
