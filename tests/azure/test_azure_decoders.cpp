#include "lameencoder.h"

#include "audio/g711.h"
#include "tts/azure/azureaudiodecoder.h"
#include "tts/azure/mp3streamdecoder.h"

#include <QTest>
#include <QtEndian>

#include <cmath>

using namespace apex;

namespace {

QVector<std::int16_t> tone(double hz, double seconds, int rateHz, double amplitude = 8000.0)
{
    QVector<std::int16_t> pcm(qsizetype(seconds * rateHz));
    for (qsizetype i = 0; i < pcm.size(); ++i)
        pcm[i] = std::int16_t(amplitude * std::sin(2.0 * M_PI * hz * double(i) / rateHz));
    return pcm;
}

QByteArray le16(const QVector<std::int16_t> &pcm)
{
    QByteArray out(pcm.size() * 2, Qt::Uninitialized);
    for (qsizetype i = 0; i < pcm.size(); ++i)
        qToLittleEndian<qint16>(pcm[i], out.data() + 2 * i);
    return out;
}

void put16(QByteArray &b, quint16 v) { char c[2]; qToLittleEndian(v, c); b.append(c, 2); }
void put32(QByteArray &b, quint32 v) { char c[4]; qToLittleEndian(v, c); b.append(c, 4); }

QByteArray wav(quint16 tag, int rateHz, quint16 bits, const QByteArray &data, bool trailingList = false, quint32 dataSize = 0xABCDu)
{
    QByteArray fmt;
    put16(fmt, tag);
    put16(fmt, 1);
    put32(fmt, quint32(rateHz));
    put32(fmt, quint32(rateHz * bits / 8));
    put16(fmt, bits / 8);
    put16(fmt, bits);
    QByteArray body = "WAVE";
    body += "fmt ";
    put32(body, quint32(fmt.size()));
    body += fmt;
    body += "LIST";
    put32(body, 5); // odd size: padded to a word
    body += QByteArray("INFOx") + '\0';
    body += "data";
    put32(body, dataSize == 0xABCDu ? quint32(data.size()) : dataSize);
    body += data;
    if (trailingList) {
        body += "LIST";
        put32(body, 4);
        body += "junk";
    }
    QByteArray file = "RIFF";
    put32(file, quint32(body.size()));
    return file + body;
}

// Feeds in pieces of `step` bytes, then finishes.
QByteArray decodeAll(AzureAudioDecoder &d, const QByteArray &body, int step)
{
    QByteArray out;
    for (qsizetype i = 0; i < body.size(); i += step)
        out += d.feed(QByteArrayView(body).sliced(i, std::min<qsizetype>(step, body.size() - i)));
    out += d.finish();
    return out;
}

QByteArray decodeMp3(Mp3StreamDecoder &d, const QByteArray &mp3, int step)
{
    QByteArray out;
    for (qsizetype i = 0; i < mp3.size(); i += step)
        out += d.feed(QByteArrayView(mp3).sliced(i, std::min<qsizetype>(step, mp3.size() - i)));
    out += d.finish();
    return out;
}

double rms(const QVector<std::int16_t> &pcm)
{
    double sum = 0;
    for (const auto s : pcm)
        sum += double(s) * s;
    return pcm.isEmpty() ? 0 : std::sqrt(sum / double(pcm.size()));
}

// Frequency from zero crossings in the middle of the signal, away from codec edges.
double frequency(const QVector<std::int16_t> &pcm, int rateHz)
{
    const qsizetype from = pcm.size() / 4, to = pcm.size() * 3 / 4;
    int crossings = 0;
    for (qsizetype i = from + 1; i < to; ++i)
        crossings += (pcm[i - 1] < 0) != (pcm[i] < 0);
    return crossings / 2.0 / (double(to - from) / rateHz);
}

} // namespace

class TestAzureDecoders : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parseFormat_data();
    void parseFormat();
    void rawMulawPassesThrough();
    void rawPcm8kSplitAnywhere();
    void rawPcm16kResampled();
    void riffMulawHeaderStripped();
    void riffPcmHonoursDataSize();
    void riffStreamedLengthUnknown();
    void riffErrors();
    void mp3Mono16k();
    void mp3Stereo24kDownmixed();
    void mp3RateChangeMidStream();
    void mp3ThroughAzureDecoder();
    void mp3GarbageGivesNothing();
};

void TestAzureDecoders::parseFormat_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("container");
    QTest::addColumn<int>("encoding");
    QTest::addColumn<int>("rate");
    using D = AzureAudioDecoder;
    QTest::newRow("raw mulaw") << "raw-8khz-8bit-mono-mulaw" << true << int(D::Container::Raw) << int(D::Encoding::Mulaw) << 8000;
    QTest::newRow("raw pcm 8k") << "raw-8khz-16bit-mono-pcm" << true << int(D::Container::Raw) << int(D::Encoding::Pcm16) << 8000;
    QTest::newRow("raw pcm 16k") << "raw-16khz-16bit-mono-pcm" << true << int(D::Container::Raw) << int(D::Encoding::Pcm16) << 16000;
    QTest::newRow("raw pcm 22050") << "raw-22050hz-16bit-mono-pcm" << true << int(D::Container::Raw) << int(D::Encoding::Pcm16) << 22050;
    QTest::newRow("riff mulaw") << "riff-8khz-8bit-mono-mulaw" << true << int(D::Container::Riff) << int(D::Encoding::Mulaw) << 8000;
    QTest::newRow("riff pcm 24k") << "riff-24khz-16bit-mono-pcm" << true << int(D::Container::Riff) << int(D::Encoding::Pcm16) << 24000;
    QTest::newRow("mp3") << "audio-16khz-32kbitrate-mono-mp3" << true << int(D::Container::Mp3) << 0 << 16000;
    QTest::newRow("mp3 48k") << "audio-48khz-192kbitrate-mono-mp3" << true << int(D::Container::Mp3) << 0 << 48000;
    QTest::newRow("alaw") << "raw-8khz-8bit-mono-alaw" << false << 0 << 0 << 0;
    QTest::newRow("mulaw 16k") << "raw-16khz-8bit-mono-mulaw" << false << 0 << 0 << 0;
    QTest::newRow("opus") << "ogg-24khz-16bit-mono-opus" << false << 0 << 0 << 0;
    QTest::newRow("webm") << "webm-24khz-16bit-mono-opus" << false << 0 << 0 << 0;
    QTest::newRow("empty") << "" << false << 0 << 0 << 0;
}

void TestAzureDecoders::parseFormat()
{
    QFETCH(QString, name);
    QFETCH(bool, ok);
    const auto f = AzureAudioDecoder::parseFormat(name);
    QCOMPARE(f.has_value(), ok);
    if (!ok) {
        AzureAudioDecoder d(name);
        QVERIFY(d.hasError());
        QVERIFY(d.feed("abc").isEmpty());
        return;
    }
    QFETCH(int, container);
    QFETCH(int, rate);
    QCOMPARE(int(f->container), container);
    QCOMPARE(f->sampleRateHz, rate);
    if (f->container != AzureAudioDecoder::Container::Mp3) {
        QFETCH(int, encoding);
        QCOMPARE(int(f->encoding), encoding);
    }
}

void TestAzureDecoders::rawMulawPassesThrough()
{
    QByteArray mulaw;
    for (int i = 0; i < 1000; ++i)
        mulaw += char(i * 7);
    AzureAudioDecoder d(QStringLiteral("raw-8khz-8bit-mono-mulaw"));
    QCOMPARE(decodeAll(d, mulaw, 33), mulaw);
    QVERIFY(!d.hasError());
}

void TestAzureDecoders::rawPcm8kSplitAnywhere()
{
    const QVector<std::int16_t> pcm = tone(440, 0.5, 8000);
    const QByteArray expected = audio::g711::encodeMulaw(pcm);
    for (int step : {1, 3, 160, 4001}) {
        AzureAudioDecoder d(QStringLiteral("raw-8khz-16bit-mono-pcm"));
        QCOMPARE(decodeAll(d, le16(pcm), step), expected);
    }
}

void TestAzureDecoders::rawPcm16kResampled()
{
    const QVector<std::int16_t> pcm = tone(440, 1.0, 16000);
    AzureAudioDecoder d(QStringLiteral("raw-16khz-16bit-mono-pcm"));
    const QByteArray mulaw = decodeAll(d, le16(pcm), 777);
    QVERIFY2(std::abs(mulaw.size() - 8000) <= 40, qPrintable(QString::number(mulaw.size())));
    const QVector<std::int16_t> back = audio::g711::decodeMulaw(mulaw);
    QVERIFY(std::abs(frequency(back, 8000) - 440) < 10);
}

void TestAzureDecoders::riffMulawHeaderStripped()
{
    QByteArray mulaw;
    for (int i = 0; i < 801; ++i) // odd: the data chunk gets a pad byte
        mulaw += char(0x80 | (i & 0x7F));
    const QByteArray file = wav(7, 8000, 8, mulaw) + '\0';
    for (int step : {1, 5, 44, 100000}) {
        AzureAudioDecoder d(QStringLiteral("riff-8khz-8bit-mono-mulaw"));
        QCOMPARE(decodeAll(d, file, step), mulaw);
        QVERIFY2(!d.hasError(), qPrintable(d.errorString()));
    }
}

void TestAzureDecoders::riffPcmHonoursDataSize()
{
    const QVector<std::int16_t> pcm = tone(300, 0.25, 8000);
    AzureAudioDecoder d(QStringLiteral("riff-8khz-16bit-mono-pcm"));
    // The fmt chunk is what counts, whatever the name said; a chunk after the data is not audio.
    QCOMPARE(decodeAll(d, wav(1, 8000, 16, le16(pcm), true), 17), audio::g711::encodeMulaw(pcm));
}

void TestAzureDecoders::riffStreamedLengthUnknown()
{
    const QVector<std::int16_t> pcm = tone(300, 0.25, 8000);
    AzureAudioDecoder d(QStringLiteral("riff-8khz-16bit-mono-pcm"));
    QCOMPARE(decodeAll(d, wav(1, 8000, 16, le16(pcm), false, 0xFFFFFFFFu), 64), audio::g711::encodeMulaw(pcm));
}

void TestAzureDecoders::riffErrors()
{
    {
        AzureAudioDecoder d(QStringLiteral("riff-8khz-8bit-mono-mulaw"));
        QVERIFY(d.feed("this is not a wave file at all").isEmpty());
        QVERIFY(d.hasError());
    }
    {
        AzureAudioDecoder d(QStringLiteral("riff-8khz-8bit-mono-mulaw"));
        QVERIFY(d.feed(wav(3, 8000, 32, QByteArray(64, 'x'))).isEmpty()); // float
        QVERIFY(d.hasError());
    }
    {
        AzureAudioDecoder d(QStringLiteral("riff-8khz-8bit-mono-mulaw"));
        QVERIFY(d.feed(wav(7, 8000, 8, "abc").left(20)).isEmpty());
        QVERIFY(!d.hasError());
        QVERIFY(d.finish().isEmpty());
        QVERIFY(d.hasError()); // ended inside the header
    }
}

void TestAzureDecoders::mp3Mono16k()
{
    if (!test::lameAvailable())
        QSKIP("libmp3lame not available (libmp3lame-dev)");
    const QByteArray mp3 = test::encodeMp3(tone(440, 1.0, 16000), 16000, 32);
    QVERIFY(mp3.size() > 1000);
    for (int step : {1, 100, 4096}) {
        Mp3StreamDecoder d;
        const QByteArray mulaw = decodeMp3(d, mp3, step);
        QVERIFY2(!d.hasError(), qPrintable(d.errorString()));
        QCOMPARE(d.sourceRateHz(), 16000);
        QCOMPARE(d.sourceChannels(), 1);
        // Encoder delay and padding add up to a few frames.
        QVERIFY2(mulaw.size() >= 8000 && mulaw.size() < 8000 + 1600, qPrintable(QString::number(mulaw.size())));
        const QVector<std::int16_t> pcm = audio::g711::decodeMulaw(mulaw);
        QVERIFY(std::abs(frequency(pcm, 8000) - 440) < 10);
        QVERIFY(rms(pcm) > 3000);
    }
}

void TestAzureDecoders::mp3Stereo24kDownmixed()
{
    if (!test::lameAvailable())
        QSKIP("libmp3lame not available (libmp3lame-dev)");
    const QVector<std::int16_t> mono = tone(500, 1.0, 24000);
    QVector<std::int16_t> stereo;
    for (const auto s : mono)
        stereo << s << s;
    const QByteArray mp3 = test::encodeMp3(stereo, 24000, 64, 2);
    Mp3StreamDecoder d;
    const QByteArray mulaw = decodeMp3(d, mp3, 333);
    QVERIFY2(!d.hasError(), qPrintable(d.errorString()));
    QCOMPARE(d.sourceRateHz(), 24000);
    QVERIFY(mulaw.size() >= 8000 && mulaw.size() < 8000 + 1600);
    QVERIFY(std::abs(frequency(audio::g711::decodeMulaw(mulaw), 8000) - 500) < 10);
}

void TestAzureDecoders::mp3RateChangeMidStream()
{
    if (!test::lameAvailable())
        QSKIP("libmp3lame not available (libmp3lame-dev)");
    const QByteArray first = test::encodeMp3(tone(440, 0.5, 16000), 16000, 32);
    const QByteArray second = test::encodeMp3(tone(440, 0.5, 24000), 24000, 48);
    Mp3StreamDecoder d;
    const QByteArray mulaw = decodeMp3(d, first + second, 256);
    QVERIFY2(!d.hasError(), qPrintable(d.errorString()));
    QCOMPARE(d.sourceRateHz(), 24000);
    QVERIFY2(mulaw.size() >= 8000 && mulaw.size() < 8000 + 3200, qPrintable(QString::number(mulaw.size())));
}

void TestAzureDecoders::mp3ThroughAzureDecoder()
{
    if (!test::lameAvailable())
        QSKIP("libmp3lame not available (libmp3lame-dev)");
    const QByteArray mp3 = test::encodeMp3(tone(440, 1.0, 16000), 16000, 32);
    AzureAudioDecoder d(QStringLiteral("audio-16khz-32kbitrate-mono-mp3"));
    // Progressive: audio comes out before the last byte goes in.
    const QByteArray head = d.feed(QByteArrayView(mp3).first(mp3.size() / 2));
    QVERIFY(head.size() > 2000);
    QByteArray tail = d.feed(QByteArrayView(mp3).sliced(mp3.size() / 2));
    tail += d.finish();
    QVERIFY(!d.hasError());
    QVERIFY(head.size() + tail.size() >= 8000);
}

void TestAzureDecoders::mp3GarbageGivesNothing()
{
    Mp3StreamDecoder d;
    QByteArray garbage;
    for (int i = 0; i < 20000; ++i)
        garbage += char((i * 7919) & 0x7F); // never an MPEG sync word (0xFFE)
    const QByteArray out = decodeMp3(d, garbage, 512);
    QVERIFY(out.isEmpty());
    QCOMPARE(d.sourceRateHz(), 0);
}

QTEST_GUILESS_MAIN(TestAzureDecoders)
#include "test_azure_decoders.moc"
