#include "audio/framer.h"
#include "audio/g711.h"
#include "audio/resampler.h"
#include "audio/vad.h"
#include "audio/wav.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <numbers>

using namespace apex::audio;

namespace {

// Straight transcription of ITU-T G.191 g711.c (ulaw_compress / ulaw_expand),
// kept deliberately naive so it checks the table-driven implementation.
short referenceUlawCompress(short linear)
{
    short absno = linear < 0 ? short(((~linear) >> 2) + 33) : short((linear >> 2) + 33);
    if (absno > 0x1FFF)
        absno = 0x1FFF;
    short i = short(absno >> 6);
    short segno = 1;
    while (i != 0) {
        segno++;
        i >>= 1;
    }
    short highNibble = short(0x0008 - segno);
    short lowNibble = short((absno >> segno) & 0x000F);
    lowNibble = short(0x000F - lowNibble);
    short log = short((highNibble << 4) | lowNibble);
    if (linear >= 0)
        log = short(log | 0x0080);
    return log;
}

short referenceUlawExpand(short log)
{
    short sign = log < 0x0080 ? -1 : 1;
    short mantissa = short(~log);
    short exponent = short((mantissa >> 4) & 0x0007);
    short segment = short(exponent + 1);
    mantissa = short(mantissa & 0x000F);
    short step = short(4 << segment);
    return short(sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33));
}

QVector<std::int16_t> sine(double frequencyHz, int rateHz, int samples, double amplitude = 12000.0)
{
    QVector<std::int16_t> out(samples);
    for (int n = 0; n < samples; ++n)
        out[n] = std::int16_t(std::lround(amplitude * std::sin(2.0 * std::numbers::pi * frequencyHz * n / rateHz)));
    return out;
}

// Power at one frequency relative to the total: a frequency that survived the
// conversion keeps nearly all the energy.
double goertzelShare(std::span<const std::int16_t> x, double frequencyHz, int rateHz)
{
    const double w = 2.0 * std::numbers::pi * frequencyHz / rateHz;
    const double coeff = 2.0 * std::cos(w);
    double s1 = 0, s2 = 0, total = 0;
    for (std::int16_t v : x) {
        const double s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
        total += double(v) * v;
    }
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return total > 0 ? (2.0 * power / double(x.size())) / total : 0.0;
}

int zeroCrossings(std::span<const std::int16_t> x)
{
    int count = 0;
    for (std::size_t i = 1; i < x.size(); ++i)
        if ((x[i - 1] < 0) != (x[i] < 0))
            ++count;
    return count;
}

QVector<std::int16_t> noise(int samples, double amplitude, quint32 seed)
{
    QRandomGenerator rng(seed);
    QVector<std::int16_t> out(samples);
    for (auto &s : out)
        s = std::int16_t(std::lround((rng.generateDouble() * 2.0 - 1.0) * amplitude));
    return out;
}

QByteArray le16(quint16 v)
{
    QByteArray out;
    out.append(char(v & 0xFF));
    out.append(char(v >> 8));
    return out;
}
QByteArray le32(quint32 v) { return le16(quint16(v & 0xFFFF)) + le16(quint16(v >> 16)); }

QByteArray chunk(const char *id, const QByteArray &body)
{
    QByteArray out(id, 4);
    out += le32(quint32(body.size())) + body;
    if (body.size() & 1)
        out += '\0';
    return out;
}

QByteArray fmtBody(quint16 tag, quint16 channels, quint32 rate, quint16 bits)
{
    const quint16 align = quint16(channels * bits / 8);
    return le16(tag) + le16(channels) + le32(rate) + le32(rate * align) + le16(align) + le16(bits);
}

QByteArray riff(const QByteArray &chunks)
{
    return QByteArray("RIFF") + le32(quint32(4 + chunks.size())) + QByteArray("WAVE") + chunks;
}

} // namespace

class TestAudio : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void g711DecodeMatchesReference()
    {
        for (int code = 0; code < 256; ++code)
            QCOMPARE(g711::mulawToLinear(std::uint8_t(code)), referenceUlawExpand(short(code)));
    }

    void g711EncodeMatchesReferenceForEverySample()
    {
        for (int s = -32768; s <= 32767; ++s) {
            const auto got = g711::linearToMulaw(std::int16_t(s));
            const auto want = std::uint8_t(referenceUlawCompress(short(s)));
            if (got != want)
                QFAIL(qPrintable(QStringLiteral("sample %1: got 0x%2 want 0x%3").arg(s).arg(got, 2, 16).arg(want, 2, 16)));
        }
    }

    void g711KnownValues()
    {
        QCOMPARE(g711::mulawToLinear(0xFF), std::int16_t(0));
        QCOMPARE(g711::mulawToLinear(0x7F), std::int16_t(0));
        QCOMPARE(g711::mulawToLinear(0x00), std::int16_t(-32124));
        QCOMPARE(g711::mulawToLinear(0x80), std::int16_t(32124));
        QCOMPARE(g711::linearToMulaw(0), std::uint8_t(0xFF));
        QCOMPARE(g711::linearToMulaw(-1), std::uint8_t(0x7F));
        QCOMPARE(g711::linearToMulaw(32767), std::uint8_t(0x80));
        QCOMPARE(g711::linearToMulaw(-32768), std::uint8_t(0x00));
    }

    void g711RoundTrip()
    {
        for (int code = 0; code < 256; ++code) {
            const std::int16_t linear = g711::mulawToLinear(std::uint8_t(code));
            QCOMPARE(g711::mulawToLinear(g711::linearToMulaw(linear)), linear);
            // Only negative zero (0x7F) is allowed to come back as another code.
            if (code != 0x7F)
                QCOMPARE(int(g711::linearToMulaw(linear)), code);
        }
        // Monotonic: a larger sample never gets a quieter decoded value.
        std::int16_t previous = g711::mulawToLinear(g711::linearToMulaw(-32768));
        for (int s = -32767; s <= 32767; ++s) {
            const std::int16_t v = g711::mulawToLinear(g711::linearToMulaw(std::int16_t(s)));
            QVERIFY(v >= previous);
            previous = v;
        }
    }

    void g711Buffers()
    {
        const QVector<std::int16_t> pcm = sine(440, 8000, 800);
        const QByteArray mulaw = g711::encodeMulaw(pcm);
        QCOMPARE(mulaw.size(), pcm.size());
        for (int i = 0; i < pcm.size(); ++i)
            QCOMPARE(quint8(mulaw[i]), g711::linearToMulaw(pcm[i]));
        const QVector<std::int16_t> decoded = g711::decodeMulaw(mulaw);
        QCOMPARE(decoded.size(), pcm.size());
        QVector<std::int16_t> appended{1, 2, 3};
        g711::decodeMulaw(mulaw, appended);
        QCOMPARE(appended.size(), pcm.size() + 3);
        QCOMPARE(appended.mid(3), decoded);
        QVERIFY(g711::encodeMulaw({}).isEmpty());
    }

    void resampleUp8kTo16k()
    {
        const auto input = sine(440, 8000, 8000);
        const auto out = Resampler::convert(input, 8000, 16000);
        QVERIFY2(std::abs(out.size() - 16000) <= 16, qPrintable(QString::number(out.size())));
        const auto middle = std::span(out).subspan(1000, 14000);
        QVERIFY(goertzelShare(middle, 440, 16000) > 0.95);
        // 440 Hz over 14000 samples at 16 kHz: 2 * 440 * 0.875 s crossings.
        QVERIFY(std::abs(zeroCrossings(middle) - 770) <= 4);
    }

    void resampleDown22050To8k()
    {
        const auto input = sine(1000, 22050, 22050);
        const auto out = Resampler::convert(input, 22050, 8000, Resampler::Quality::High);
        QVERIFY2(std::abs(out.size() - 8000) <= 8, qPrintable(QString::number(out.size())));
        const auto middle = std::span(out).subspan(500, 7000);
        QVERIFY(goertzelShare(middle, 1000, 8000) > 0.95);
        QVERIFY(std::abs(zeroCrossings(middle) - 1750) <= 4);
        // Above the new Nyquist: filtered away, not folded back.
        const auto high = Resampler::convert(sine(6000, 22050, 22050), 22050, 8000);
        QVERIFY(VoiceActivityDetector::frameDbfs(std::span(high).subspan(500, 7000)) < -40.0);
    }

    void resampleChunkedMatchesOneShot()
    {
        const auto input = sine(300, 22050, 22050 * 2);
        const auto oneShot = Resampler::convert(input, 22050, 8000);
        Resampler resampler(22050, 8000);
        QVector<std::int16_t> chunked;
        const int sizes[] = {1, 7, 333, 1021, 4093, 17};
        qsizetype offset = 0;
        for (int i = 0; offset < input.size(); ++i) {
            const qsizetype n = std::min<qsizetype>(sizes[i % 6], input.size() - offset);
            chunked += resampler.process(std::span(input).subspan(offset, n));
            offset += n;
        }
        chunked += resampler.flush();
        QVERIFY2(std::abs(chunked.size() - oneShot.size()) <= 2,
                 qPrintable(QStringLiteral("%1 vs %2").arg(chunked.size()).arg(oneShot.size())));
        int maxDiff = 0;
        for (qsizetype i = 0; i < std::min(chunked.size(), oneShot.size()); ++i)
            maxDiff = std::max(maxDiff, std::abs(chunked[i] - oneShot[i]));
        QVERIFY2(maxDiff <= 2, qPrintable(QString::number(maxDiff)));
        QVERIFY(resampler.flush().isEmpty());
    }

    void resampleSameRateIsIdentity()
    {
        const auto input = sine(300, 8000, 1000);
        QCOMPARE(Resampler::convert(input, 8000, 8000), input);
    }

    void framerSizes_data()
    {
        QTest::addColumn<int>("chunkSize");
        for (int size : {1, 159, 160, 161, 1000, 0})
            QTest::newRow(qPrintable(size ? QString::number(size) : QStringLiteral("random"))) << size;
    }

    void framerSizes()
    {
        QFETCH(int, chunkSize);
        QByteArray stream(8000 + 37, Qt::Uninitialized);
        for (int i = 0; i < stream.size(); ++i)
            stream[i] = char(i * 7 + i / 160);
        QRandomGenerator rng(42);
        Framer framer;
        QByteArray reassembled;
        int frames = 0;
        for (qsizetype offset = 0; offset < stream.size();) {
            const int n = std::min<qsizetype>(chunkSize ? chunkSize : rng.bounded(1, 700), stream.size() - offset);
            for (const QByteArray &frame : framer.push(QByteArrayView(stream).sliced(offset, n))) {
                QCOMPARE(frame.size(), 160);
                reassembled += frame;
                ++frames;
            }
            offset += n;
            QCOMPARE(framer.pendingBytes(), int((offset) % 160));
        }
        QCOMPARE(frames, 50);
        QCOMPARE(reassembled, stream.left(8000));
        const QByteArray tail = framer.flush();
        QCOMPARE(tail.size(), 160);
        QCOMPARE(tail.left(37), stream.right(37));
        QCOMPARE(tail.mid(37), QByteArray(123, char(0xFF)));
        QVERIFY(framer.flush().isEmpty());
        QCOMPARE(framer.pendingBytes(), 0);
    }

    void wavRoundTrip()
    {
        PcmAudio audio;
        audio.sampleRateHz = 16000;
        audio.samples = sine(500, 16000, 1601);
        audio.samples[0] = -32768;
        audio.samples[1] = 32767;
        const QByteArray bytes = Wav::serialize(audio);
        QCOMPARE(bytes.size(), 44 + 2 * 1601);
        WavError error;
        const auto parsed = Wav::parse(bytes, &error);
        QVERIFY2(parsed, qPrintable(error.message));
        QCOMPARE(parsed->sampleRateHz, 16000);
        QCOMPARE(parsed->samples, audio.samples);

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("a.wav"));
        QVERIFY(Wav::write(path, audio, &error));
        const auto read = Wav::read(path, &error);
        QVERIFY2(read, qPrintable(error.message));
        QCOMPARE(read->samples, audio.samples);
        QVERIFY(!Wav::read(dir.filePath(QStringLiteral("missing.wav")), &error));
        QVERIFY(error.message.contains(QStringLiteral("cannot open")));
    }

    void wavExtraChunksAndFormats()
    {
        // LIST chunk with odd size (pad byte) before fmt, fact after: both skipped.
        const QByteArray list = chunk("LIST", QByteArray("INFOISFT\x03\0\0\0ab\0", 15));
        QByteArray stereo;
        for (int i = 0; i < 4; ++i)
            stereo += le16(quint16(qint16(1000 * (i + 1)))) + le16(quint16(qint16(-3000)));
        const QByteArray file = riff(list + chunk("fmt ", fmtBody(1, 2, 8000, 16)) + chunk("fact", le32(4))
                                     + chunk("data", stereo));
        WavError error;
        auto parsed = Wav::parse(file, &error);
        QVERIFY2(parsed, qPrintable(error.message));
        QCOMPARE(parsed->samples, (QVector<std::int16_t>{-1000, -500, 0, 500}));

        // 8-bit unsigned, 3 samples: odd data size followed by a pad byte and a trailer chunk.
        const QByteArray u8 = riff(chunk("fmt ", fmtBody(1, 1, 11025, 8)) + chunk("data", QByteArray("\x80\xFF\x00", 3))
                                   + chunk("junk", "xyz"));
        parsed = Wav::parse(u8, &error);
        QVERIFY2(parsed, qPrintable(error.message));
        QCOMPARE(parsed->sampleRateHz, 11025);
        QCOMPARE(parsed->samples, (QVector<std::int16_t>{0, 127 << 8, -128 << 8}));

        // mu-law (format 7), with the 18-byte fmt chunk writers usually emit.
        const QByteArray mulaw = riff(chunk("fmt ", fmtBody(7, 1, 8000, 8) + le16(0)) + chunk("data", QByteArray("\xFF\x00\x80", 3)));
        parsed = Wav::parse(mulaw, &error);
        QVERIFY2(parsed, qPrintable(error.message));
        QCOMPARE(parsed->samples, (QVector<std::int16_t>{0, -32124, 32124}));
    }

    void wavRejectsGarbage()
    {
        PcmAudio audio;
        audio.samples = sine(500, 8000, 400);
        const QByteArray good = Wav::serialize(audio);
        WavError error;

        QVERIFY(!Wav::parse(QByteArray(), &error));
        QVERIFY(!error.message.isEmpty());
        QVERIFY(!Wav::parse(QByteArray("hello world, not a wav file at all"), &error));
        QVERIFY(error.message.contains(QStringLiteral("RIFF")));
        QVERIFY(!Wav::parse(riff(chunk("data", "abcd")), &error));
        QVERIFY(error.message.contains(QStringLiteral("fmt")));
        QVERIFY(!Wav::parse(riff(chunk("fmt ", fmtBody(1, 1, 8000, 16))), &error));
        QVERIFY(error.message.contains(QStringLiteral("data")));
        QVERIFY(!Wav::parse(riff(chunk("fmt ", fmtBody(85, 1, 8000, 16)) + chunk("data", "ab")), &error));
        QVERIFY(error.message.contains(QStringLiteral("unsupported")));
        QVERIFY(!Wav::parse(riff(chunk("fmt ", fmtBody(1, 0, 8000, 16)) + chunk("data", "ab")), &error));
        QVERIFY(!Wav::parse(riff(chunk("fmt ", fmtBody(1, 1, 0, 16)) + chunk("data", "ab")), &error));

        // Every truncation either parses to a prefix of the samples or fails cleanly.
        for (int length = 0; length < good.size(); ++length) {
            const auto parsed = Wav::parse(good.left(length), &error);
            if (length < 44) {
                QVERIFY(!parsed);
                QVERIFY(!error.message.isEmpty());
            } else {
                QVERIFY(parsed);
                QCOMPARE(parsed->samples, audio.samples.mid(0, (length - 44) / 2));
            }
        }

        // A chunk size near 4 GiB must not wrap offsets or read out of bounds.
        QByteArray hostile = riff(chunk("LIST", "ab"));
        hostile[16] = hostile[17] = hostile[18] = hostile[19] = char(0xFF);
        QVERIFY(!Wav::parse(hostile, &error));

        // Random bytes behind a valid signature: must never crash.
        QRandomGenerator rng(7);
        for (int i = 0; i < 2000; ++i) {
            QByteArray junk = good.left(12);
            const int n = rng.bounded(0, 120);
            for (int k = 0; k < n; ++k)
                junk += char(rng.bounded(256));
            if (i % 3 == 0)
                junk.replace(12, 4, "fmt ");
            Wav::parse(junk, &error);
        }
    }

    void vadSilenceHasNoEvents()
    {
        VoiceActivityDetector vad;
        const QVector<std::int16_t> silence(160, 0);
        for (int i = 0; i < 500; ++i)
            QCOMPARE(vad.push(silence), VoiceActivityDetector::Event::None);
        QVERIFY(!vad.inSpeech());
    }

    void vadLowNoiseDoesNotTrigger()
    {
        VoiceActivityDetector vad;
        const auto hiss = noise(160 * 500, 200.0, 1); // about -47 dBFS
        for (int i = 0; i < 500; ++i)
            QCOMPARE(vad.push(std::span(hiss).subspan(i * 160, 160)), VoiceActivityDetector::Event::None);
    }

    void vadToneBurst_data()
    {
        QTest::addColumn<int>("endpointingMs");
        QTest::addColumn<double>("noiseAmplitude");
        QTest::newRow("250ms, digital silence") << 250 << 0.0;
        QTest::newRow("250ms, line noise") << 250 << 150.0;
        QTest::newRow("700ms, line noise") << 700 << 150.0;
    }

    void vadToneBurst()
    {
        QFETCH(int, endpointingMs);
        QFETCH(double, noiseAmplitude);
        VoiceActivityDetector::Settings settings;
        settings.endpointingMs = endpointingMs;
        VoiceActivityDetector vad(settings);

        // 1 s quiet, 500 ms of 300 Hz at about -12 dBFS, 2 s quiet; 20 ms frames.
        constexpr int kBurstStart = 50;
        constexpr int kBurstEnd = 75;
        constexpr int kFrames = 175;
        QVector<std::int16_t> signal = noise(kFrames * 160, noiseAmplitude, 3);
        const auto tone = sine(300, 8000, (kBurstEnd - kBurstStart) * 160, 8000.0);
        for (int i = 0; i < tone.size(); ++i)
            signal[kBurstStart * 160 + i] = std::int16_t(signal[kBurstStart * 160 + i] + tone[i]);

        int started = -1, ended = -1, events = 0;
        for (int frame = 0; frame < kFrames; ++frame) {
            const auto event = vad.push(std::span(signal).subspan(frame * 160, 160));
            if (event == VoiceActivityDetector::Event::SpeechStarted) {
                started = frame;
                ++events;
            } else if (event == VoiceActivityDetector::Event::SpeechEnded) {
                ended = frame;
                ++events;
            }
        }
        QCOMPARE(events, 2);
        // Onset after 60 ms: the third voiced frame.
        QCOMPARE(started, kBurstStart + 2);
        // The end is reported endpointingMs after the burst: frames counted, not timed.
        const int silentFrames = ended - kBurstEnd + 1;
        QVERIFY2(silentFrames >= endpointingMs / 20 && silentFrames <= endpointingMs / 20 + 1,
                 qPrintable(QString::number(silentFrames)));
        QVERIFY(!vad.inSpeech());
    }

    void vadAdaptsToNoiseFloor()
    {
        // Line noise that creeps up to a loud hum (about -36 dBFS, well above the
        // -45 dBFS absolute floor) is learnt as the floor, not taken for speech.
        VoiceActivityDetector vad;
        const auto hum = noise(160 * 1000, 900.0, 5);
        int events = 0;
        for (int step = 0; step < 60; ++step) {
            const double amplitude = 30.0 + step * 15.0;
            const auto frame = noise(160 * 25, amplitude, quint32(step + 10));
            for (int f = 0; f < 25; ++f)
                events += vad.push(std::span(frame).subspan(f * 160, 160)) != VoiceActivityDetector::Event::None;
        }
        for (int f = 0; f < 1000; ++f)
            events += vad.push(std::span(hum).subspan(f * 160, 160)) != VoiceActivityDetector::Event::None;
        QCOMPARE(events, 0);
        QVERIFY(!vad.inSpeech());
    }

    void vadReset()
    {
        VoiceActivityDetector vad;
        const auto tone = sine(300, 8000, 160 * 10, 8000.0);
        for (int f = 0; f < 10; ++f)
            vad.push(std::span(tone).subspan(f * 160, 160));
        QVERIFY(vad.inSpeech());
        vad.reset();
        QVERIFY(!vad.inSpeech());
        QCOMPARE(VoiceActivityDetector::frameDbfs(QVector<std::int16_t>(160, 0)), -100.0);
        QVERIFY(std::abs(VoiceActivityDetector::frameDbfs(QVector<std::int16_t>(160, 16384)) + 6.02) < 0.01);
    }
};

QTEST_GUILESS_MAIN(TestAudio)
#include "test_audio.moc"
