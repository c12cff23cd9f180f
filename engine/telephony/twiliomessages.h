#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <variant>

// Twilio Media Streams JSON (protocols.md §1), pure and socket-free so the leg,
// the simulated caller and the tests share one reading of the wire format.
// "Inbound" is Twilio -> us, "outbound" is us -> Twilio. Counters
// (sequenceNumber, chunk, timestamp) are strings on the wire in both readers
// and writers.
namespace apex::twilio {

// Nothing legitimate comes near this: a 20 ms media frame is ~300 bytes of JSON.
inline constexpr qsizetype kMaxFrameBytes = 64 * 1024;
inline constexpr int kMulawFrameBytes = 160; // 20 ms at 8 kHz

enum class ParseErrorKind {
    MalformedJson,
    NotAnObject,
    MissingEvent,
    UnknownEvent,
    MissingField,
    InvalidField, // present but of the wrong type or shape (chunk "abc", digit "x")
    BadBase64,
    FrameTooLarge,
};

struct ParseError
{
    ParseErrorKind kind = ParseErrorKind::MalformedJson;
    QString detail;
};

QString toString(ParseErrorKind kind);

// ---- Twilio -> us --------------------------------------------------------

struct ConnectedEvent
{
    QString protocol = QStringLiteral("Call");
    QString version = QStringLiteral("1.0.0");
};

struct MediaFormat
{
    QString encoding = QStringLiteral("audio/x-mulaw");
    int sampleRateHz = 8000;
    int channels = 1;
};

struct StartEvent
{
    qint64 sequenceNumber = 0; // 0: absent
    QString streamSid;
    QString accountSid;
    QString callSid;
    QStringList tracks{QStringLiteral("inbound")};
    QMap<QString, QString> customParameters;
    MediaFormat mediaFormat;
};

struct MediaEvent
{
    qint64 sequenceNumber = 0;
    QString streamSid;
    QString track = QStringLiteral("inbound");
    qint64 chunk = 0;
    qint64 timestampMs = 0; // since stream start
    QByteArray payload;     // decoded mu-law
};

struct DtmfEvent
{
    qint64 sequenceNumber = 0;
    QString streamSid;
    QString track = QStringLiteral("inbound_track");
    QChar digit;
};

struct MarkEvent
{
    qint64 sequenceNumber = 0;
    QString streamSid;
    QString name;
};

struct StopEvent
{
    qint64 sequenceNumber = 0;
    QString streamSid;
    QString accountSid;
    QString callSid;
};

using InboundMessage = std::variant<ConnectedEvent, StartEvent, MediaEvent, DtmfEvent, MarkEvent, StopEvent>;

// ---- us -> Twilio --------------------------------------------------------

struct OutboundMedia
{
    QString streamSid;
    QByteArray payload; // raw mu-law
};

struct OutboundMark
{
    QString streamSid;
    QString name;
};

struct OutboundClear
{
    QString streamSid;
};

using OutboundMessage = std::variant<OutboundMedia, OutboundMark, OutboundClear>;

// A value or the reason there is none (C++20 has no std::expected).
template<typename T>
class Parsed
{
public:
    Parsed(T value) : m_result(std::move(value)) {}
    Parsed(ParseError error) : m_result(std::move(error)) {}

    bool ok() const { return m_result.index() == 0; }
    const T &value() const { return std::get<0>(m_result); }
    T &value() { return std::get<0>(m_result); }
    const ParseError &error() const { return std::get<1>(m_result); }

private:
    std::variant<T, ParseError> m_result;
};

// One text frame from Twilio. Strict about what the engine relies on (event,
// start.streamSid/callSid, media.payload, mark.name, dtmf.digit), tolerant of
// fields it ignores.
Parsed<InboundMessage> parseInbound(QByteArrayView frame);
// One text frame from the engine, as the simulated caller reads it.
Parsed<OutboundMessage> parseOutbound(QByteArrayView frame);

// Writers, byte-exact with protocols.md §1.3 (keys in the documented order).
QByteArray toJson(const OutboundMedia &message);
QByteArray toJson(const OutboundMark &message);
QByteArray toJson(const OutboundClear &message);
// The frame path: no intermediate OutboundMedia copy.
QByteArray mediaJson(QStringView streamSid, QByteArrayView mulaw);

// Writers for what Twilio sends; the simulated caller and tests use them.
QByteArray toJson(const ConnectedEvent &message);
QByteArray toJson(const StartEvent &message);
QByteArray toJson(const MediaEvent &message);
QByteArray toJson(const DtmfEvent &message);
QByteArray toJson(const MarkEvent &message);
QByteArray toJson(const StopEvent &message);

// A JSON string literal, quotes included.
QByteArray jsonString(QStringView text);

} // namespace apex::twilio
