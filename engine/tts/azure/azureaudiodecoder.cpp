#include "tts/azure/azureaudiodecoder.h"

#include "audio/g711.h"

#include <QRegularExpression>
#include <QtEndian>

#include <vector>

namespace apex {

namespace {

constexpr quint16 kWavePcm = 1;
constexpr quint16 kWaveMulaw = 7;
constexpr quint16 kWaveExtensible = 0xFFFE;
// A header bigger than this is not a header Azure sends (theirs is 44–58 bytes);
// refusing it bounds what a broken server can make us buffer.
constexpr qsizetype kMaxRiffHeaderBytes = 4096;

int rateFrom(const QString &number, const QString &unit)
{
    const int n = number.toInt();
    return unit.compare(QLatin1String("khz"), Qt::CaseInsensitive) == 0 ? n * 1000 : n;
}

} // namespace

std::optional<AzureAudioDecoder::Format> AzureAudioDecoder::parseFormat(const QString &outputFormat)
{
    static const QRegularExpression kPlain(QRegularExpression::anchoredPattern(QStringLiteral("(raw|riff)-(\\d+)(khz|hz)-(8bit-mono-mulaw|16bit-mono-pcm)")),
                                           QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression kMp3(QRegularExpression::anchoredPattern(QStringLiteral("audio-(\\d+)(khz|hz)-\\d+kbitrate-mono-mp3")),
                                         QRegularExpression::CaseInsensitiveOption);
    const QString name = outputFormat.trimmed();
    if (const auto m = kPlain.match(name); m.hasMatch()) {
        Format f;
        f.container = m.captured(1).compare(QLatin1String("riff"), Qt::CaseInsensitive) == 0 ? Container::Riff : Container::Raw;
        f.sampleRateHz = rateFrom(m.captured(2), m.captured(3));
        f.encoding = m.captured(4).endsWith(QLatin1String("mulaw"), Qt::CaseInsensitive) ? Encoding::Mulaw : Encoding::Pcm16;
        // mu-law at another rate would need decode + resample + encode; Azure
        // only offers it at 8 kHz anyway.
        if (f.sampleRateHz <= 0 || (f.encoding == Encoding::Mulaw && f.sampleRateHz != 8000))
            return std::nullopt;
        return f;
    }
    if (const auto m = kMp3.match(name); m.hasMatch()) {
        Format f;
        f.container = Container::Mp3;
        f.sampleRateHz = rateFrom(m.captured(1), m.captured(2));
        return f;
    }
    return std::nullopt;
}

AzureAudioDecoder::AzureAudioDecoder(const QString &outputFormat)
{
    const auto format = parseFormat(outputFormat);
    if (!format) {
        m_error = QStringLiteral("unsupported output format %1").arg(outputFormat);
        return;
    }
    m_format = *format;
    if (m_format.container == Container::Mp3) {
        m_mp3 = std::make_unique<Mp3StreamDecoder>();
        if (m_mp3->hasError())
            m_error = m_mp3->errorString();
    }
}

AzureAudioDecoder::~AzureAudioDecoder() = default;

QByteArray AzureAudioDecoder::feed(QByteArrayView body)
{
    if (hasError() || body.isEmpty())
        return {};
    switch (m_format.container) {
    case Container::Mp3: {
        QByteArray out = m_mp3->feed(body);
        if (m_mp3->hasError())
            m_error = m_mp3->errorString();
        return out;
    }
    case Container::Raw:
        return decodeRaw(body);
    case Container::Riff:
        if (!m_headerDone) {
            m_pending.append(body.data(), body.size());
            if (!parseRiffHeader())
                return {};
            const QByteArray rest = std::exchange(m_pending, {});
            return decodeRaw(rest);
        }
        return decodeRaw(body);
    }
    return {};
}

QByteArray AzureAudioDecoder::finish()
{
    if (hasError())
        return {};
    if (m_format.container == Container::Mp3) {
        QByteArray out = m_mp3->finish();
        if (m_mp3->hasError())
            m_error = m_mp3->errorString();
        return out;
    }
    if (m_format.container == Container::Riff && !m_headerDone) {
        m_error = QStringLiteral("WAV body ended inside its header (%1 bytes)").arg(m_pending.size());
        return {};
    }
    m_pending.clear(); // half a 16-bit sample cannot be played
    return m_pcmEncoder ? m_pcmEncoder->finish() : QByteArray();
}

QByteArray AzureAudioDecoder::decodeRaw(QByteArrayView bytes)
{
    if (m_dataRemaining >= 0) {
        // Bytes after the data chunk (a LIST chunk, say) are not audio.
        bytes = bytes.first(std::min<qint64>(bytes.size(), m_dataRemaining));
        m_dataRemaining -= bytes.size();
    }
    if (bytes.isEmpty())
        return {};
    if (m_format.encoding == Encoding::Mulaw)
        return bytes.toByteArray();

    // 16-bit little-endian PCM; a sample split across two reads waits in m_pending.
    QByteArray joined;
    if (!m_pending.isEmpty()) {
        joined = m_pending + bytes.toByteArray();
        m_pending.clear();
        bytes = joined;
    }
    const qsizetype samples = bytes.size() / 2;
    if (bytes.size() % 2)
        m_pending = bytes.last(1).toByteArray();
    if (samples == 0)
        return {};
    std::vector<std::int16_t> pcm(static_cast<size_t>(samples));
    for (qsizetype i = 0; i < samples; ++i)
        pcm[size_t(i)] = qFromLittleEndian<qint16>(bytes.data() + 2 * i);
    if (!m_pcmEncoder)
        m_pcmEncoder = std::make_unique<MulawStreamEncoder>();
    return m_pcmEncoder->push(pcm, m_format.sampleRateHz);
}

bool AzureAudioDecoder::parseRiffHeader()
{
    const QByteArray &h = m_pending;
    if (h.size() < 12)
        return false;
    if (!h.startsWith("RIFF") || h.mid(8, 4) != "WAVE") {
        m_error = QStringLiteral("body is not a RIFF/WAVE file");
        return false;
    }
    bool haveFmt = false;
    qsizetype pos = 12;
    while (pos + 8 <= h.size()) {
        const QByteArray id = h.mid(pos, 4);
        const quint32 size = qFromLittleEndian<quint32>(h.constData() + pos + 4);
        const qsizetype body = pos + 8;
        if (id == "data") {
            if (!haveFmt) {
                m_error = QStringLiteral("WAV data chunk before its fmt chunk");
                return false;
            }
            // Streamed WAVs carry 0 or 0xFFFFFFFF: the length was unknown when written.
            m_dataRemaining = (size == 0 || size == 0xFFFFFFFFu) ? -1 : qint64(size);
            m_pending = h.mid(body);
            m_headerDone = true;
            return true;
        }
        const qsizetype next = body + qsizetype(size) + (size & 1); // chunks are word aligned
        if (next > kMaxRiffHeaderBytes) {
            m_error = QStringLiteral("WAV header chunk '%1' too large (%2 bytes)").arg(QString::fromLatin1(id)).arg(size);
            return false;
        }
        if (next > h.size())
            return false; // wait for the rest of this chunk
        if (id == "fmt ") {
            if (size < 16) {
                m_error = QStringLiteral("WAV fmt chunk too short");
                return false;
            }
            quint16 tag = qFromLittleEndian<quint16>(h.constData() + body);
            const quint16 channels = qFromLittleEndian<quint16>(h.constData() + body + 2);
            const quint32 rate = qFromLittleEndian<quint32>(h.constData() + body + 4);
            const quint16 bits = qFromLittleEndian<quint16>(h.constData() + body + 14);
            if (tag == kWaveExtensible && size >= 40)
                tag = qFromLittleEndian<quint16>(h.constData() + body + 24); // the sub-format GUID's first field
            if (channels != 1 || rate == 0 || rate > 192000) {
                m_error = QStringLiteral("WAV is %1 channels at %2 Hz; want mono").arg(channels).arg(rate);
                return false;
            }
            if (tag == kWaveMulaw && bits == 8 && rate == 8000) {
                m_format.encoding = Encoding::Mulaw;
            } else if (tag == kWavePcm && bits == 16) {
                m_format.encoding = Encoding::Pcm16;
            } else {
                m_error = QStringLiteral("WAV format tag %1 with %2 bits at %3 Hz is not supported").arg(tag).arg(bits).arg(rate);
                return false;
            }
            m_format.sampleRateHz = int(rate);
            haveFmt = true;
        }
        pos = next;
    }
    if (h.size() > kMaxRiffHeaderBytes) {
        m_error = QStringLiteral("WAV header longer than %1 bytes").arg(kMaxRiffHeaderBytes);
        return false;
    }
    return false;
}

} // namespace apex
