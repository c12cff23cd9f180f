#include "tst_twiliomessages.h"

#include "telephony/twiliomessages.h"
#include "telephony/twimlwriter.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace apex::twilio;

void TestTwilioMessages::parsesConnected()
{
    auto parsed = parseInbound(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
    QVERIFY(parsed.ok());
    const auto *event = std::get_if<ConnectedEvent>(&parsed.value());
    QVERIFY(event);
    QCOMPARE(event->protocol, QStringLiteral("Call"));
    QCOMPARE(event->version, QStringLiteral("1.0.0"));
}

void TestTwilioMessages::parsesStart()
{
    const QByteArray json = R"({"event":"start","sequenceNumber":"1","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0",
        "start":{"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","accountSid":"AC123","callSid":"CA456",
        "tracks":["inbound"],"customParameters":{"tenant":"acme","from":"+15550001111"},
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})";
    auto parsed = parseInbound(json);
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().detail));
    const auto *event = std::get_if<StartEvent>(&parsed.value());
    QVERIFY(event);
    QCOMPARE(event->sequenceNumber, 1);
    QCOMPARE(event->streamSid, QStringLiteral("MZ18ad3ab5a668481ce02b83e7395059f0"));
    QCOMPARE(event->accountSid, QStringLiteral("AC123"));
    QCOMPARE(event->callSid, QStringLiteral("CA456"));
    QCOMPARE(event->tracks, QStringList{QStringLiteral("inbound")});
    QCOMPARE(event->customParameters.value(QStringLiteral("tenant")), QStringLiteral("acme"));
    QCOMPARE(event->customParameters.value(QStringLiteral("from")), QStringLiteral("+15550001111"));
    QCOMPARE(event->mediaFormat.encoding, QStringLiteral("audio/x-mulaw"));
    QCOMPARE(event->mediaFormat.sampleRateHz, 8000);
    QCOMPARE(event->mediaFormat.channels, 1);
}

void TestTwilioMessages::parsesMedia()
{
    QByteArray audio(160, '\0');
    for (int i = 0; i < audio.size(); ++i)
        audio[i] = char(i * 7);
    const QByteArray json = "{\"event\":\"media\",\"sequenceNumber\":\"3\",\"streamSid\":\"MZ1\",\"media\":{\"track\":\"inbound\",\"chunk\":\"2\",\"timestamp\":\"20\",\"payload\":\""
        + audio.toBase64() + R"("}})";
    auto parsed = parseInbound(json);
    QVERIFY(parsed.ok());
    const auto *event = std::get_if<MediaEvent>(&parsed.value());
    QVERIFY(event);
    QCOMPARE(event->sequenceNumber, 3);
    QCOMPARE(event->streamSid, QStringLiteral("MZ1"));
    QCOMPARE(event->track, QStringLiteral("inbound"));
    QCOMPARE(event->chunk, 2);
    QCOMPARE(event->timestampMs, 20);
    QCOMPARE(event->payload, audio);
}

void TestTwilioMessages::parsesDtmf()
{
    auto parsed = parseInbound(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"#"}})");
    QVERIFY(parsed.ok());
    const auto *event = std::get_if<DtmfEvent>(&parsed.value());
    QVERIFY(event);
    QCOMPARE(event->digit, QChar('#'));
    QCOMPARE(event->track, QStringLiteral("inbound_track"));
    QCOMPARE(event->sequenceNumber, 5);
}

void TestTwilioMessages::parsesMark()
{
    auto parsed = parseInbound(R"({"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"r42-s3"}})");
    QVERIFY(parsed.ok());
    const auto *event = std::get_if<MarkEvent>(&parsed.value());
    QVERIFY(event);
    QCOMPARE(event->name, QStringLiteral("r42-s3"));
    QCOMPARE(event->streamSid, QStringLiteral("MZ1"));
}

void TestTwilioMessages::parsesStop()
{
    auto parsed = parseInbound(R"({"event":"stop","sequenceNumber":"9","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})");
    QVERIFY(parsed.ok());
    const auto *event = std::get_if<StopEvent>(&parsed.value());
    QVERIFY(event);
    QCOMPARE(event->accountSid, QStringLiteral("AC1"));
    QCOMPARE(event->callSid, QStringLiteral("CA1"));
    QCOMPARE(event->sequenceNumber, 9);
}

void TestTwilioMessages::acceptsNumericCounters()
{
    auto parsed = parseInbound(R"({"event":"media","sequenceNumber":3,"media":{"chunk":2,"timestamp":40,"payload":"/w=="}})");
    QVERIFY(parsed.ok());
    const auto &event = std::get<MediaEvent>(parsed.value());
    QCOMPARE(event.chunk, 2);
    QCOMPARE(event.timestampMs, 40);
    QCOMPARE(event.payload, QByteArray(1, char(0xFF)));
}

void TestTwilioMessages::errors_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<ParseErrorKind>("kind");
    QTest::newRow("not json") << QByteArray("hello") << ParseErrorKind::MalformedJson;
    QTest::newRow("truncated") << QByteArray("{\"event\":\"media\"") << ParseErrorKind::MalformedJson;
    QTest::newRow("array") << QByteArray(R"(["event"])") << ParseErrorKind::NotAnObject;
    QTest::newRow("no event") << QByteArray(R"({"streamSid":"MZ1"})") << ParseErrorKind::MissingEvent;
    QTest::newRow("event not string") << QByteArray(R"({"event":7})") << ParseErrorKind::MissingEvent;
    QTest::newRow("unknown event") << QByteArray(R"({"event":"dance"})") << ParseErrorKind::UnknownEvent;
    QTest::newRow("outbound clear inbound") << QByteArray(R"({"event":"clear","streamSid":"MZ1"})") << ParseErrorKind::UnknownEvent;
    QTest::newRow("start without start") << QByteArray(R"({"event":"start","streamSid":"MZ1"})") << ParseErrorKind::MissingField;
    QTest::newRow("start without streamSid") << QByteArray(R"({"event":"start","start":{"callSid":"CA1"}})") << ParseErrorKind::MissingField;
    QTest::newRow("start without callSid") << QByteArray(R"({"event":"start","start":{"streamSid":"MZ1"}})") << ParseErrorKind::MissingField;
    QTest::newRow("start params not object") << QByteArray(R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","customParameters":[1]}})") << ParseErrorKind::InvalidField;
    QTest::newRow("media without media") << QByteArray(R"({"event":"media","streamSid":"MZ1"})") << ParseErrorKind::MissingField;
    QTest::newRow("media without payload") << QByteArray(R"({"event":"media","media":{"chunk":"1"}})") << ParseErrorKind::MissingField;
    QTest::newRow("payload not string") << QByteArray(R"({"event":"media","media":{"payload":12}})") << ParseErrorKind::InvalidField;
    QTest::newRow("bad base64") << QByteArray(R"({"event":"media","media":{"payload":"@@@not base64!!"}})") << ParseErrorKind::BadBase64;
    QTest::newRow("bad chunk") << QByteArray(R"({"event":"media","media":{"chunk":"one","payload":"/w=="}})") << ParseErrorKind::InvalidField;
    QTest::newRow("mark without name") << QByteArray(R"({"event":"mark","mark":{}})") << ParseErrorKind::MissingField;
    QTest::newRow("dtmf bad digit") << QByteArray(R"({"event":"dtmf","dtmf":{"digit":"x"}})") << ParseErrorKind::InvalidField;
    QTest::newRow("dtmf missing") << QByteArray(R"({"event":"dtmf"})") << ParseErrorKind::MissingField;
}

void TestTwilioMessages::errors()
{
    QFETCH(QByteArray, frame);
    QFETCH(ParseErrorKind, kind);
    auto parsed = parseInbound(frame);
    QVERIFY(!parsed.ok());
    QCOMPARE(int(parsed.error().kind), int(kind));
    QVERIFY(!parsed.error().detail.isEmpty());
}

void TestTwilioMessages::frameTooLarge()
{
    QByteArray payload(kMaxFrameBytes, 'A');
    const QByteArray json = "{\"event\":\"media\",\"media\":{\"payload\":\"" + payload + R"("}})";
    auto parsed = parseInbound(json);
    QVERIFY(!parsed.ok());
    QCOMPARE(int(parsed.error().kind), int(ParseErrorKind::FrameTooLarge));
    // Exactly at the limit is still read.
    QByteArray atLimit = "{\"event\":\"dance\",\"x\":\"";
    atLimit += QByteArray(kMaxFrameBytes - atLimit.size() - 2, 'x') + "\"}";
    QCOMPARE(atLimit.size(), kMaxFrameBytes);
    QCOMPARE(int(parseInbound(atLimit).error().kind), int(ParseErrorKind::UnknownEvent));
}

void TestTwilioMessages::writesOutboundExactly()
{
    const QByteArray audio(160, char(0xFF));
    QCOMPARE(mediaJson(u"MZabc", audio),
             QByteArray("{\"event\":\"media\",\"streamSid\":\"MZabc\",\"media\":{\"payload\":\"") + audio.toBase64() + R"("}})");
    QCOMPARE(toJson(OutboundMedia{QStringLiteral("MZabc"), QByteArray("\x01\x02\x03")}),
             QByteArray(R"({"event":"media","streamSid":"MZabc","media":{"payload":"AQID"}})"));
    QCOMPARE(toJson(OutboundMark{QStringLiteral("MZabc"), QStringLiteral("r42-s3")}),
             QByteArray(R"({"event":"mark","streamSid":"MZabc","mark":{"name":"r42-s3"}})"));
    QCOMPARE(toJson(OutboundClear{QStringLiteral("MZabc")}), QByteArray(R"({"event":"clear","streamSid":"MZabc"})"));
}

void TestTwilioMessages::escapesStrings()
{
    QCOMPARE(jsonString(u"a\"b\\c\nd\x01é"), QByteArray("\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\""));
    const QByteArray mark = toJson(OutboundMark{QStringLiteral("MZ"), QStringLiteral("we\"ird\n")});
    const QJsonDocument doc = QJsonDocument::fromJson(mark);
    QCOMPARE(doc.object().value("mark").toObject().value("name").toString(), QStringLiteral("we\"ird\n"));
}

void TestTwilioMessages::writesInboundWithStringCounters()
{
    MediaEvent media;
    media.sequenceNumber = 7;
    media.streamSid = QStringLiteral("MZ1");
    media.chunk = 6;
    media.timestampMs = 100;
    media.payload = QByteArray("\x01\x02\x03");
    QCOMPARE(toJson(media),
             QByteArray(R"({"event":"media","sequenceNumber":"7","streamSid":"MZ1","media":{"track":"inbound","chunk":"6","timestamp":"100","payload":"AQID"}})"));
    QCOMPARE(toJson(ConnectedEvent{}), QByteArray(R"({"event":"connected","protocol":"Call","version":"1.0.0"})"));
    QCOMPARE(toJson(MarkEvent{3, QStringLiteral("MZ1"), QStringLiteral("m")}),
             QByteArray(R"({"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{"name":"m"}})"));
    QCOMPARE(toJson(StopEvent{9, QStringLiteral("MZ1"), QStringLiteral("AC1"), QStringLiteral("CA1")}),
             QByteArray(R"({"event":"stop","sequenceNumber":"9","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})"));
    QCOMPARE(toJson(DtmfEvent{4, QStringLiteral("MZ1"), QStringLiteral("inbound_track"), QChar('5')}),
             QByteArray(R"({"event":"dtmf","sequenceNumber":"4","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"5"}})"));
    StartEvent start;
    start.sequenceNumber = 1;
    start.streamSid = QStringLiteral("MZ1");
    start.accountSid = QStringLiteral("AC1");
    start.callSid = QStringLiteral("CA1");
    start.customParameters.insert(QStringLiteral("tenant"), QStringLiteral("acme"));
    QCOMPARE(toJson(start),
             QByteArray(R"({"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"AC1","callSid":"CA1","tracks":["inbound"],"customParameters":{"tenant":"acme"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})"));
    // sampleRate/channels are JSON numbers, counters JSON strings.
    const QJsonObject startObject = QJsonDocument::fromJson(toJson(start)).object();
    QVERIFY(startObject.value("sequenceNumber").isString());
    QVERIFY(startObject.value("start").toObject().value("mediaFormat").toObject().value("sampleRate").isDouble());
}

void TestTwilioMessages::roundTripsInbound()
{
    StartEvent start;
    start.sequenceNumber = 1;
    start.streamSid = QStringLiteral("MZ9");
    start.callSid = QStringLiteral("CA9");
    start.customParameters.insert(QStringLiteral("to"), QStringLiteral("+1 <&>"));
    auto parsed = parseInbound(toJson(start));
    QVERIFY(parsed.ok());
    QCOMPARE(std::get<StartEvent>(parsed.value()).customParameters.value(QStringLiteral("to")), QStringLiteral("+1 <&>"));
}

void TestTwilioMessages::parsesOutbound()
{
    auto media = parseOutbound(mediaJson(u"MZ1", QByteArray(160, char(0x7F))));
    QVERIFY(media.ok());
    QCOMPARE(std::get<OutboundMedia>(media.value()).payload, QByteArray(160, char(0x7F)));
    QCOMPARE(std::get<OutboundMedia>(media.value()).streamSid, QStringLiteral("MZ1"));
    auto mark = parseOutbound(toJson(OutboundMark{QStringLiteral("MZ1"), QStringLiteral("m1")}));
    QVERIFY(mark.ok());
    QCOMPARE(std::get<OutboundMark>(mark.value()).name, QStringLiteral("m1"));
    auto clear = parseOutbound(toJson(OutboundClear{QStringLiteral("MZ1")}));
    QVERIFY(clear.ok());
    QVERIFY(std::holds_alternative<OutboundClear>(clear.value()));
}

void TestTwilioMessages::outboundErrors_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<ParseErrorKind>("kind");
    QTest::newRow("no streamSid") << QByteArray(R"({"event":"clear"})") << ParseErrorKind::MissingField;
    QTest::newRow("media no payload") << QByteArray(R"({"event":"media","streamSid":"MZ1","media":{}})") << ParseErrorKind::MissingField;
    QTest::newRow("bad base64") << QByteArray(R"({"event":"media","streamSid":"MZ1","media":{"payload":"%%%"}})") << ParseErrorKind::BadBase64;
    QTest::newRow("inbound event") << QByteArray(R"({"event":"start","streamSid":"MZ1"})") << ParseErrorKind::UnknownEvent;
    QTest::newRow("garbage") << QByteArray("{{") << ParseErrorKind::MalformedJson;
}

void TestTwilioMessages::outboundErrors()
{
    QFETCH(QByteArray, frame);
    QFETCH(ParseErrorKind, kind);
    auto parsed = parseOutbound(frame);
    QVERIFY(!parsed.ok());
    QCOMPARE(int(parsed.error().kind), int(kind));
}

void TestTwilioMessages::twimlEscapes()
{
    const QByteArray xml = apex::twiml::connectStream(QStringLiteral("wss://h/twilio/media"),
                                                      {{QStringLiteral("tenant"), QStringLiteral("a&b\"<c>'")}});
    QVERIFY(xml.contains(R"(<Stream url="wss://h/twilio/media"><Parameter name="tenant" value="a&amp;b&quot;&lt;c&gt;'"/></Stream>)"));
    QVERIFY(xml.startsWith("<?xml"));
    QVERIFY(apex::twiml::sayAndHangUp(QStringLiteral("x<y")).contains("<Say>x&lt;y</Say><Hangup/>"));
}

QTEST_GUILESS_MAIN(TestTwilioMessages)
