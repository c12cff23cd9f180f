#include "tts/azure/azuresettings.h"
#include "tts/azure/azuresynthesizer.h"
#include "tts/azure/ssml.h"

#include <QTest>
#include <QXmlStreamReader>

using namespace apex;

namespace {

// The document as an XML parser sees it: what Azure will read.
struct Parsed
{
    QString error;
    bool sawDtd = false;
    QStringList elements;
    QString speakLang;
    QString voice;
    int voiceCount = 0;
    QString text; // character data inside <voice>
    QString textOutside;
};

Parsed parse(const QByteArray &document)
{
    Parsed p;
    QXmlStreamReader xml(document);
    int depth = 0;
    while (!xml.atEnd()) {
        switch (xml.readNext()) {
        case QXmlStreamReader::DTD: p.sawDtd = true; break;
        case QXmlStreamReader::EntityReference: p.error = QStringLiteral("entity reference"); break;
        case QXmlStreamReader::StartElement:
            p.elements << xml.name().toString();
            if (xml.name() == QLatin1String("speak"))
                p.speakLang = xml.attributes().value(QLatin1String("xml:lang")).toString();
            if (xml.name() == QLatin1String("voice")) {
                ++p.voiceCount;
                ++depth;
                p.voice = xml.attributes().value(QLatin1String("name")).toString();
            }
            break;
        case QXmlStreamReader::EndElement:
            if (xml.name() == QLatin1String("voice"))
                --depth;
            break;
        case QXmlStreamReader::Characters:
            (depth > 0 ? p.text : p.textOutside) += xml.text();
            break;
        default: break;
        }
    }
    if (xml.hasError())
        p.error = xml.errorString();
    return p;
}

QString lone(char16_t unit)
{
    return QString(QChar(unit));
}

} // namespace

class TestAzureSsml : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void hostileTextStaysText_data();
    void hostileTextStaysText();
    void sanitizedText();
    void escapedCoversAllFive();
    void documentShape();
    void hostileVoiceAndLanguageStayAttributes();
    void voiceNames_data();
    void voiceNames();
    void resolveVoice();
    void ssmlForHindiAndEnglish();
    void httpRequestHeaders();
    void settingsUrl();
    void supportsNeedsKeyRegionAndFormat();
};

void TestAzureSsml::hostileTextStaysText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected"); // what Azure must read back

    auto same = [](const char *name, const QString &t) { QTest::newRow(name) << t << t; };
    same("plain", QStringLiteral("Hello, how can I help you today?"));
    same("close voice, open another", QStringLiteral("</voice><voice name=\"x\">pwned</voice><voice name=\"y\">"));
    same("close speak", QStringLiteral("bye</voice></speak><speak>"));
    same("cdata end", QStringLiteral("a ]]> b"));
    same("cdata section", QStringLiteral("<![CDATA[<voice>]]>"));
    same("entity declaration", QStringLiteral("<!ENTITY x SYSTEM \"file:///etc/passwd\">"));
    same("doctype", QStringLiteral("<!DOCTYPE speak [<!ENTITY x \"boom\">]>&x;"));
    same("entity references", QStringLiteral("&amp; &lt; &#60; &x; & &&"));
    same("quotes", QStringLiteral("He said \"it's\" fine; 'quoted' \"\"''"));
    same("processing instruction", QStringLiteral("<?xml version=\"1.0\"?><?php echo 1; ?>"));
    same("comment", QStringLiteral("<!-- hidden --> shown"));
    same("ssml tags", QStringLiteral("<break time=\"10s\"/><prosody rate=\"x-slow\">slow</prosody><audio src=\"http://evil\"/>"));
    same("emoji", QStringLiteral("Great 👍🏽 see you 😀 soon 🇮🇳"));
    same("hindi", QStringLiteral("नमस्ते! आपका ऑर्डर कल तक पहुँच जाएगा। धन्यवाद।"));
    same("mixed scripts", QStringLiteral("Order #42 – ₹1,299 — “ok” ‘fine’ € ü ß 中文"));
    same("percent placeholders", QStringLiteral("%1 %2 %3 %L1 %%"));
    same("backslashes", QStringLiteral("C:\\path\\n \\u0000"));
    same("non-breaking and zero-width", QStringLiteral("a\u00A0b\u200Bc\u200Dd\u202Ee"));
    same("noncharacter in BMP allowed by XML", QStringLiteral("x\uFDD0y"));
    same("long", QString(QStringLiteral("<voice>&amp;\"' ")).repeated(2000));

    QTest::newRow("C0 controls") << QStringLiteral("a") + QChar(0) + QStringLiteral("b") + QChar(7) + QStringLiteral("c") + QChar(0x1B)
            + QStringLiteral("[31md") + QChar(0x1F) + QChar(0x7F) + QStringLiteral("e")
                                 << QStringLiteral("abc[31md") + QChar(0x7F) + QStringLiteral("e");
    QTest::newRow("tab cr lf") << QStringLiteral("one\ttwo\r\nthree\rfour\n") << QStringLiteral("one two  three four ");
    QTest::newRow("lone high surrogate") << QStringLiteral("a") + lone(0xD83D) + QStringLiteral("b") << QStringLiteral("ab");
    QTest::newRow("lone low surrogate") << QStringLiteral("a") + lone(0xDE00) + QStringLiteral("b") << QStringLiteral("ab");
    QTest::newRow("reversed pair") << lone(0xDE00) + lone(0xD83D) << QString();
    QTest::newRow("high then high then pair") << lone(0xD83D) + QStringLiteral("😀") << QStringLiteral("😀");
    QTest::newRow("trailing high surrogate") << QStringLiteral("end") + lone(0xD83D) << QStringLiteral("end");
    QTest::newRow("FFFE FFFF") << QStringLiteral("a") + lone(0xFFFE) + lone(0xFFFF) + QStringLiteral("b") << QStringLiteral("ab");
    QTest::newRow("only controls") << QString(QChar(1)) + QChar(2) << QString();
}

void TestAzureSsml::hostileTextStaysText()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const QByteArray doc = ssml::document(QStringLiteral("en-US-JennyNeural"), QStringLiteral("en-US"), text);
    QCOMPARE(QString::fromUtf8(doc).toUtf8(), doc); // valid UTF-8 throughout
    const Parsed p = parse(doc);
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QVERIFY(!p.sawDtd);
    QCOMPARE(p.elements, QStringList({QStringLiteral("speak"), QStringLiteral("voice")}));
    QCOMPARE(p.voiceCount, 1);
    QCOMPARE(p.voice, QStringLiteral("en-US-JennyNeural"));
    QCOMPARE(p.speakLang, QStringLiteral("en-US"));
    QCOMPARE(p.textOutside, QString());
    QCOMPARE(p.text, expected);
    QCOMPARE(ssml::sanitizedText(text), expected);
}

void TestAzureSsml::sanitizedText()
{
    QCOMPARE(ssml::sanitizedText(QString()), QString());
    QCOMPARE(ssml::sanitizedText(QStringLiteral("ok")), QStringLiteral("ok"));
    // A valid astral pair survives; each half alone does not.
    const QString grin = QStringLiteral("😀");
    QCOMPARE(grin.size(), 2);
    QCOMPARE(ssml::sanitizedText(grin), grin);
    QCOMPARE(ssml::sanitizedText(grin.left(1)), QString());
    QCOMPARE(ssml::sanitizedText(grin.right(1)), QString());
}

void TestAzureSsml::escapedCoversAllFive()
{
    QCOMPARE(ssml::escaped(QStringLiteral("&<>\"'x")), QStringLiteral("&amp;&lt;&gt;&quot;&apos;x"));
    QCOMPARE(ssml::escaped(QStringLiteral("&amp;")), QStringLiteral("&amp;amp;"));
}

void TestAzureSsml::documentShape()
{
    const QByteArray doc = ssml::document(QStringLiteral("hi-IN-SwaraNeural"), QStringLiteral("hi-IN"), QStringLiteral("नमस्ते!"));
    QCOMPARE(doc, QStringLiteral("<speak version=\"1.0\" xmlns=\"http://www.w3.org/2001/10/synthesis\" xml:lang=\"hi-IN\">"
                                 "<voice name=\"hi-IN-SwaraNeural\">नमस्ते!</voice></speak>").toUtf8());
}

void TestAzureSsml::hostileVoiceAndLanguageStayAttributes()
{
    const QString voice = QStringLiteral("x\"><voice name=\"evil\">");
    const QString lang = QStringLiteral("en\" onload=\"");
    const Parsed p = parse(ssml::document(voice, lang, QStringLiteral("hi")));
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QCOMPARE(p.voiceCount, 1);
    QCOMPARE(p.voice, voice);
    QCOMPARE(p.speakLang, lang);
    QCOMPARE(p.text, QStringLiteral("hi"));
}

void TestAzureSsml::voiceNames_data()
{
    QTest::addColumn<QString>("voice");
    QTest::addColumn<QString>("locale"); // empty: not an Azure voice name
    QTest::newRow("jenny") << "en-US-JennyNeural" << "en-US";
    QTest::newRow("swara") << "hi-IN-SwaraNeural" << "hi-IN";
    QTest::newRow("madhur") << "hi-IN-MadhurNeural" << "hi-IN";
    QTest::newRow("neerja") << "en-IN-NeerjaNeural" << "en-IN";
    QTest::newRow("multilingual") << "en-US-AvaMultilingualNeural" << "en-US";
    QTest::newRow("hd variant") << "en-US-Jenny:DragonHDLatestNeural" << "en-US";
    QTest::newRow("script") << "sr-Latn-RS-NicholasNeural" << "sr-Latn-RS";
    QTest::newRow("dialect") << "zh-CN-shaanxi-XiaoniNeural" << "zh-CN-shaanxi";
    QTest::newRow("three-letter language") << "wuu-CN-XiaotongNeural" << "wuu-CN";
    QTest::newRow("flite") << "slt" << "";
    QTest::newRow("espeak") << "espeak:hi" << "";
    QTest::newRow("empty") << "" << "";
    QTest::newRow("not neural") << "en-US-Jenny" << "";
    QTest::newRow("lower-case region") << "en-us-JennyNeural" << "";
    QTest::newRow("quote injection") << "en-US-JennyNeural\"><x" << "";
    QTest::newRow("space") << "en-US-Jenny Neural" << "";
    QTest::newRow("trailing newline") << "en-US-JennyNeural\n" << "";
}

void TestAzureSsml::voiceNames()
{
    QFETCH(QString, voice);
    QFETCH(QString, locale);
    QCOMPARE(AzureSynthesizer::isAzureVoiceName(voice), !locale.isEmpty());
    QCOMPARE(AzureSynthesizer::voiceLocale(voice), locale);
}

void TestAzureSsml::resolveVoice()
{
    AzureSettings s;
    SynthesisRequest r;
    r.voice = QStringLiteral("hi-IN-SwaraNeural");
    QCOMPARE(AzureSynthesizer::resolveVoice(r, s), QStringLiteral("hi-IN-SwaraNeural"));
    r.voice = QStringLiteral(" hi-IN-SwaraNeural ");
    QCOMPARE(AzureSynthesizer::resolveVoice(r, s), QStringLiteral("hi-IN-SwaraNeural"));
    r.voice = QStringLiteral("slt");
    QCOMPARE(AzureSynthesizer::resolveVoice(r, s), QStringLiteral("en-US-JennyNeural"));
    r.voice = QStringLiteral("en-US-JennyNeural\"><x");
    QCOMPARE(AzureSynthesizer::resolveVoice(r, s), QStringLiteral("en-US-JennyNeural"));
    s.defaultVoice = QStringLiteral("en-IN-NeerjaNeural");
    r.voice.clear();
    QCOMPARE(AzureSynthesizer::resolveVoice(r, s), QStringLiteral("en-IN-NeerjaNeural"));
    // A flite voice on a Hindi tenant: a Hindi neural voice, not the English default.
    r.voice = QStringLiteral("slt");
    r.language = QStringLiteral("hi");
    QCOMPARE(AzureSynthesizer::resolveVoice(r, s), QStringLiteral("hi-IN-SwaraNeural"));
    r.language = QStringLiteral("hi-IN");
    QCOMPARE(AzureSynthesizer::resolveVoice(r, s), QStringLiteral("hi-IN-SwaraNeural"));
}

void TestAzureSsml::ssmlForHindiAndEnglish()
{
    AzureSettings s;
    SynthesisRequest r;
    r.text = QStringLiteral("नमस्ते & <स्वागत>");
    r.voice = QStringLiteral("hi-IN-SwaraNeural");
    r.language = QStringLiteral("en"); // the voice's locale wins: it is what Azure speaks
    Parsed p = parse(AzureSynthesizer::ssmlFor(r, s));
    QCOMPARE(p.voice, QStringLiteral("hi-IN-SwaraNeural"));
    QCOMPARE(p.speakLang, QStringLiteral("hi-IN"));
    QCOMPARE(p.text, r.text);

    r.voice = QStringLiteral("kal");
    r.text = QStringLiteral("It's <fine>");
    p = parse(AzureSynthesizer::ssmlFor(r, s));
    QCOMPARE(p.voice, QStringLiteral("en-US-JennyNeural"));
    QCOMPARE(p.speakLang, QStringLiteral("en-US"));
    QCOMPARE(p.text, r.text);

    // A default voice of an odd shape (from a config file) is still only an attribute.
    s.defaultVoice = QStringLiteral("custom\"voice");
    r.language = QStringLiteral("fr-FR");
    p = parse(AzureSynthesizer::ssmlFor(r, s));
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QCOMPARE(p.voice, QStringLiteral("custom\"voice"));
    QCOMPARE(p.speakLang, QStringLiteral("fr-FR"));
}

void TestAzureSsml::httpRequestHeaders()
{
    AzureSettings s;
    s.region = QStringLiteral("centralindia");
    s.key = QStringLiteral("secret-key");
    s.userAgent = QString(300, QLatin1Char('a'));
    const QNetworkRequest r = AzureSynthesizer::httpRequest(s);
    QCOMPARE(r.url(), QUrl(QStringLiteral("https://centralindia.tts.speech.microsoft.com/cognitiveservices/v1")));
    QCOMPARE(r.rawHeader("Ocp-Apim-Subscription-Key"), QByteArray("secret-key"));
    QCOMPARE(r.rawHeader("Content-Type"), QByteArray("application/ssml+xml"));
    QCOMPARE(r.rawHeader("X-Microsoft-OutputFormat"), QByteArray("raw-8khz-8bit-mono-mulaw"));
    QVERIFY(r.rawHeader("User-Agent").size() < 255);
    QCOMPARE(r.attribute(QNetworkRequest::RedirectPolicyAttribute).toInt(), int(QNetworkRequest::ManualRedirectPolicy));
}

void TestAzureSsml::settingsUrl()
{
    AzureSettings s;
    QVERIFY(!s.synthesisUrl().isValid());
    s.region = QStringLiteral("EastUS");
    QCOMPARE(s.synthesisUrl(), QUrl(QStringLiteral("https://eastus.tts.speech.microsoft.com/cognitiveservices/v1")));
    s.region = QStringLiteral("evil.example/x?");
    QVERIFY(!s.synthesisUrl().isValid());
    s.url = QStringLiteral("http://127.0.0.1:8080/cognitiveservices/v1");
    QCOMPARE(s.synthesisUrl(), QUrl(s.url));
    s.url = QStringLiteral("ftp://example.com/x");
    QVERIFY(!s.synthesisUrl().isValid());
}

void TestAzureSsml::supportsNeedsKeyRegionAndFormat()
{
    const SynthesisRequest r{QStringLiteral("hi"), {}, {}, {}};
    AzureSettings s;
    QVERIFY(!AzureSynthesizer(s).supports(r));
    s.region = QStringLiteral("eastus");
    QVERIFY(!AzureSynthesizer(s).supports(r));
    s.key = QStringLiteral("k");
    QVERIFY(AzureSynthesizer(s).supports(r));
    s.region.clear();
    QVERIFY(!AzureSynthesizer(s).supports(r));
    s.url = QStringLiteral("http://127.0.0.1:1/cognitiveservices/v1");
    QVERIFY(AzureSynthesizer(s).supports(r));
    s.outputFormat = QStringLiteral("ogg-24khz-16bit-mono-opus");
    QVERIFY(!AzureSynthesizer(s).supports(r));
    s.outputFormat = QStringLiteral("audio-16khz-32kbitrate-mono-mp3");
    QVERIFY(AzureSynthesizer(s).supports(r));
    QCOMPARE(AzureSynthesizer(s).name(), QStringLiteral("azure"));
}

QTEST_GUILESS_MAIN(TestAzureSsml)
#include "test_azure_ssml.moc"
