#include "telephony/twiliomessages.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>

namespace apex::twilio {

QString toString(ParseErrorKind kind)
{
    switch (kind) {
    case ParseErrorKind::MalformedJson: return QStringLiteral("malformed JSON");
    case ParseErrorKind::NotAnObject: return QStringLiteral("not a JSON object");
    case ParseErrorKind::MissingEvent: return QStringLiteral("missing event");
    case ParseErrorKind::UnknownEvent: return QStringLiteral("unknown event");
    case ParseErrorKind::MissingField: return QStringLiteral("missing field");
    case ParseErrorKind::InvalidField: return QStringLiteral("invalid field");
    case ParseErrorKind::BadBase64: return QStringLiteral("bad base64");
    case ParseErrorKind::FrameTooLarge: return QStringLiteral("frame too large");
    }
    return QStringLiteral("unknown error");
}

namespace {

ParseError error(ParseErrorKind kind, QString detail)
{
    return ParseError{kind, std::move(detail)};
}

// Shared by both readers: size bound, JSON, object, event name.
struct Envelope
{
    QJsonObject root;
    QString event;
};

std::variant<Envelope, ParseError> readEnvelope(QByteArrayView frame)
{
    if (frame.size() > kMaxFrameBytes)
        return error(ParseErrorKind::FrameTooLarge,
                     QStringLiteral("%1 bytes, limit %2").arg(frame.size()).arg(kMaxFrameBytes));
    QJsonParseError jsonError;
    const QJsonDocument doc = QJsonDocument::fromJson(frame.toByteArray(), &jsonError);
    if (jsonError.error != QJsonParseError::NoError)
        return error(ParseErrorKind::MalformedJson,
                     QStringLiteral("%1 at offset %2").arg(jsonError.errorString()).arg(jsonError.offset));
    if (!doc.isObject())
        return error(ParseErrorKind::NotAnObject, QStringLiteral("top level is not an object"));
    Envelope envelope{doc.object(), {}};
    const QJsonValue event = envelope.root.value(QLatin1String("event"));
    if (event.isUndefined() || event.isNull())
        return error(ParseErrorKind::MissingEvent, QStringLiteral("no \"event\" key"));
    if (!event.isString() || event.toString().isEmpty())
        return error(ParseErrorKind::MissingEvent, QStringLiteral("\"event\" is not a non-empty string"));
    envelope.event = event.toString();
    return envelope;
}

// A string field that must be present.
std::variant<QString, ParseError> requiredString(const QJsonObject &object, QLatin1String key, QLatin1String where)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return error(ParseErrorKind::MissingField, QStringLiteral("%1.%2").arg(where, key));
    if (!value.isString())
        return error(ParseErrorKind::InvalidField, QStringLiteral("%1.%2 is not a string").arg(where, key));
    return value.toString();
}

std::variant<QJsonObject, ParseError> requiredObject(const QJsonObject &object, QLatin1String key)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return error(ParseErrorKind::MissingField, QString(key));
    if (!value.isObject())
        return error(ParseErrorKind::InvalidField, QStringLiteral("%1 is not an object").arg(key));
    return value.toObject();
}

// Counters are strings on the wire; a number is read too, because being lenient
// here costs nothing and a fake that sends numbers is still understandable.
std::variant<qint64, ParseError> optionalCounter(const QJsonObject &object, QLatin1String key, QLatin1String where)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return qint64(0);
    if (value.isDouble()) {
        const double d = value.toDouble();
        if (d >= 0 && d == double(qint64(d)))
            return qint64(d);
    } else if (value.isString()) {
        bool ok = false;
        const qint64 n = value.toString().toLongLong(&ok);
        if (ok && n >= 0)
            return n;
    }
    return error(ParseErrorKind::InvalidField, QStringLiteral("%1.%2 is not a counter").arg(where, key));
}

std::variant<QByteArray, ParseError> decodePayload(const QJsonObject &media)
{
    auto payload = requiredString(media, QLatin1String("payload"), QLatin1String("media"));
    if (auto *e = std::get_if<ParseError>(&payload))
        return *e;
    const QByteArray base64 = std::get<QString>(payload).toLatin1();
    auto decoded = QByteArray::fromBase64Encoding(base64, QByteArray::AbortOnBase64DecodingErrors);
    if (decoded.decodingStatus != QByteArray::Base64DecodingStatus::Ok)
        return error(ParseErrorKind::BadBase64, QStringLiteral("media.payload (%1 chars)").arg(base64.size()));
    return std::move(decoded.decoded);
}

// Pulls T out of variant<T, ParseError>, or returns the error from the caller.
#define APEX_TRY(var, expr)                                   \
    auto var##Result = (expr);                                \
    if (auto *var##Error = std::get_if<ParseError>(&var##Result)) \
        return *var##Error;                                   \
    auto var = std::move(std::get<0>(var##Result))

QString streamSidOf(const QJsonObject &root)
{
    return root.value(QLatin1String("streamSid")).toString();
}

Parsed<InboundMessage> parseStart(const QJsonObject &root)
{
    APEX_TRY(sequence, optionalCounter(root, QLatin1String("sequenceNumber"), QLatin1String("start")));
    APEX_TRY(start, requiredObject(root, QLatin1String("start")));
    APEX_TRY(streamSid, requiredString(start, QLatin1String("streamSid"), QLatin1String("start")));
    APEX_TRY(callSid, requiredString(start, QLatin1String("callSid"), QLatin1String("start")));
    StartEvent event;
    event.sequenceNumber = sequence;
    event.streamSid = streamSid;
    event.callSid = callSid;
    event.accountSid = start.value(QLatin1String("accountSid")).toString();
    if (const QJsonValue tracks = start.value(QLatin1String("tracks")); tracks.isArray()) {
        event.tracks.clear();
        for (const QJsonValue &track : tracks.toArray())
            event.tracks.append(track.toString());
    }
    const QJsonValue params = start.value(QLatin1String("customParameters"));
    if (!params.isUndefined() && !params.isNull() && !params.isObject())
        return error(ParseErrorKind::InvalidField, QStringLiteral("start.customParameters is not an object"));
    const QJsonObject paramObject = params.toObject();
    for (auto it = paramObject.begin(); it != paramObject.end(); ++it)
        event.customParameters.insert(it.key(), it.value().toVariant().toString());
    const QJsonObject format = start.value(QLatin1String("mediaFormat")).toObject();
    event.mediaFormat.encoding = format.value(QLatin1String("encoding")).toString(event.mediaFormat.encoding);
    event.mediaFormat.sampleRateHz = format.value(QLatin1String("sampleRate")).toInt(event.mediaFormat.sampleRateHz);
    event.mediaFormat.channels = format.value(QLatin1String("channels")).toInt(event.mediaFormat.channels);
    return InboundMessage(std::move(event));
}

Parsed<InboundMessage> parseMedia(const QJsonObject &root)
{
    APEX_TRY(sequence, optionalCounter(root, QLatin1String("sequenceNumber"), QLatin1String("media")));
    APEX_TRY(media, requiredObject(root, QLatin1String("media")));
    APEX_TRY(chunk, optionalCounter(media, QLatin1String("chunk"), QLatin1String("media")));
    APEX_TRY(timestamp, optionalCounter(media, QLatin1String("timestamp"), QLatin1String("media")));
    APEX_TRY(payload, decodePayload(media));
    MediaEvent event;
    event.sequenceNumber = sequence;
    event.streamSid = streamSidOf(root);
    event.track = media.value(QLatin1String("track")).toString(event.track);
    event.chunk = chunk;
    event.timestampMs = timestamp;
    event.payload = std::move(payload);
    return InboundMessage(std::move(event));
}

Parsed<InboundMessage> parseDtmf(const QJsonObject &root)
{
    APEX_TRY(sequence, optionalCounter(root, QLatin1String("sequenceNumber"), QLatin1String("dtmf")));
    APEX_TRY(dtmf, requiredObject(root, QLatin1String("dtmf")));
    APEX_TRY(digit, requiredString(dtmf, QLatin1String("digit"), QLatin1String("dtmf")));
    static const QString allowed = QStringLiteral("0123456789*#");
    if (digit.size() != 1 || !allowed.contains(digit.at(0)))
        return error(ParseErrorKind::InvalidField, QStringLiteral("dtmf.digit \"%1\"").arg(digit.left(8)));
    DtmfEvent event;
    event.sequenceNumber = sequence;
    event.streamSid = streamSidOf(root);
    event.track = dtmf.value(QLatin1String("track")).toString(event.track);
    event.digit = digit.at(0);
    return InboundMessage(std::move(event));
}

Parsed<InboundMessage> parseMark(const QJsonObject &root)
{
    APEX_TRY(sequence, optionalCounter(root, QLatin1String("sequenceNumber"), QLatin1String("mark")));
    APEX_TRY(mark, requiredObject(root, QLatin1String("mark")));
    APEX_TRY(name, requiredString(mark, QLatin1String("name"), QLatin1String("mark")));
    return InboundMessage(MarkEvent{sequence, streamSidOf(root), name});
}

Parsed<InboundMessage> parseStop(const QJsonObject &root)
{
    APEX_TRY(sequence, optionalCounter(root, QLatin1String("sequenceNumber"), QLatin1String("stop")));
    const QJsonObject stop = root.value(QLatin1String("stop")).toObject();
    StopEvent event;
    event.sequenceNumber = sequence;
    event.streamSid = streamSidOf(root);
    event.accountSid = stop.value(QLatin1String("accountSid")).toString();
    event.callSid = stop.value(QLatin1String("callSid")).toString();
    return InboundMessage(std::move(event));
}

std::variant<QString, ParseError> requiredStreamSid(const QJsonObject &root, const QString &event)
{
    const QJsonValue value = root.value(QLatin1String("streamSid"));
    if (value.isUndefined() || value.isNull())
        return error(ParseErrorKind::MissingField, QStringLiteral("%1: streamSid").arg(event));
    if (!value.isString() || value.toString().isEmpty())
        return error(ParseErrorKind::InvalidField, QStringLiteral("%1: streamSid is not a non-empty string").arg(event));
    return value.toString();
}

} // namespace

Parsed<InboundMessage> parseInbound(QByteArrayView frame)
{
    auto envelopeResult = readEnvelope(frame);
    if (auto *e = std::get_if<ParseError>(&envelopeResult))
        return *e;
    const Envelope &envelope = std::get<Envelope>(envelopeResult);
    const QJsonObject &root = envelope.root;
    const QString &event = envelope.event;

    if (event == QLatin1String("media"))
        return parseMedia(root);
    if (event == QLatin1String("start"))
        return parseStart(root);
    if (event == QLatin1String("connected")) {
        ConnectedEvent connected;
        connected.protocol = root.value(QLatin1String("protocol")).toString(connected.protocol);
        connected.version = root.value(QLatin1String("version")).toString(connected.version);
        return InboundMessage(std::move(connected));
    }
    if (event == QLatin1String("dtmf"))
        return parseDtmf(root);
    if (event == QLatin1String("mark"))
        return parseMark(root);
    if (event == QLatin1String("stop"))
        return parseStop(root);
    return error(ParseErrorKind::UnknownEvent, QStringLiteral("\"%1\"").arg(event.left(64)));
}

Parsed<OutboundMessage> parseOutbound(QByteArrayView frame)
{
    auto envelopeResult = readEnvelope(frame);
    if (auto *e = std::get_if<ParseError>(&envelopeResult))
        return *e;
    const Envelope &envelope = std::get<Envelope>(envelopeResult);
    const QJsonObject &root = envelope.root;
    const QString &event = envelope.event;

    if (event == QLatin1String("media")) {
        APEX_TRY(streamSid, requiredStreamSid(root, event));
        APEX_TRY(media, requiredObject(root, QLatin1String("media")));
        APEX_TRY(payload, decodePayload(media));
        return OutboundMessage(OutboundMedia{streamSid, std::move(payload)});
    }
    if (event == QLatin1String("mark")) {
        APEX_TRY(streamSid, requiredStreamSid(root, event));
        APEX_TRY(mark, requiredObject(root, QLatin1String("mark")));
        APEX_TRY(name, requiredString(mark, QLatin1String("name"), QLatin1String("mark")));
        return OutboundMessage(OutboundMark{streamSid, name});
    }
    if (event == QLatin1String("clear")) {
        APEX_TRY(streamSid, requiredStreamSid(root, event));
        return OutboundMessage(OutboundClear{streamSid});
    }
    return error(ParseErrorKind::UnknownEvent, QStringLiteral("\"%1\"").arg(event.left(64)));
}

#undef APEX_TRY

QByteArray jsonString(QStringView text)
{
    const QByteArray utf8 = text.toUtf8();
    QByteArray out;
    out.reserve(utf8.size() + 2);
    out.append('"');
    for (const char c : utf8) {
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                static const char hex[] = "0123456789abcdef";
                out.append("\\u00");
                out.append(hex[(c >> 4) & 0xF]);
                out.append(hex[c & 0xF]);
            } else {
                out.append(c);
            }
        }
    }
    out.append('"');
    return out;
}

namespace {

QByteArray counter(qint64 value)
{
    return '"' + QByteArray::number(value) + '"';
}

} // namespace

QByteArray mediaJson(QStringView streamSid, QByteArrayView mulaw)
{
    QByteArray out;
    out.reserve(64 + streamSid.size() + (mulaw.size() + 2) / 3 * 4);
    out.append(R"({"event":"media","streamSid":)");
    out.append(jsonString(streamSid));
    out.append(R"(,"media":{"payload":")");
    out.append(QByteArray::fromRawData(mulaw.data(), mulaw.size()).toBase64());
    out.append("\"}}");
    return out;
}

QByteArray toJson(const OutboundMedia &message)
{
    return mediaJson(message.streamSid, message.payload);
}

QByteArray toJson(const OutboundMark &message)
{
    return R"({"event":"mark","streamSid":)" + jsonString(message.streamSid) + R"(,"mark":{"name":)"
        + jsonString(message.name) + "}}";
}

QByteArray toJson(const OutboundClear &message)
{
    return R"({"event":"clear","streamSid":)" + jsonString(message.streamSid) + "}";
}

QByteArray toJson(const ConnectedEvent &message)
{
    return R"({"event":"connected","protocol":)" + jsonString(message.protocol) + R"(,"version":)"
        + jsonString(message.version) + "}";
}

QByteArray toJson(const StartEvent &message)
{
    QByteArray tracks = "[";
    for (qsizetype i = 0; i < message.tracks.size(); ++i) {
        if (i > 0)
            tracks.append(',');
        tracks.append(jsonString(message.tracks.at(i)));
    }
    tracks.append(']');
    QByteArray params = "{";
    for (auto it = message.customParameters.begin(); it != message.customParameters.end(); ++it) {
        if (params.size() > 1)
            params.append(',');
        params.append(jsonString(it.key()) + ':' + jsonString(it.value()));
    }
    params.append('}');
    return R"({"event":"start","sequenceNumber":)" + counter(message.sequenceNumber)
        + R"(,"streamSid":)" + jsonString(message.streamSid)
        + R"(,"start":{"streamSid":)" + jsonString(message.streamSid)
        + R"(,"accountSid":)" + jsonString(message.accountSid)
        + R"(,"callSid":)" + jsonString(message.callSid)
        + R"(,"tracks":)" + tracks
        + R"(,"customParameters":)" + params
        + R"(,"mediaFormat":{"encoding":)" + jsonString(message.mediaFormat.encoding)
        + R"(,"sampleRate":)" + QByteArray::number(message.mediaFormat.sampleRateHz)
        + R"(,"channels":)" + QByteArray::number(message.mediaFormat.channels) + "}}}";
}

QByteArray toJson(const MediaEvent &message)
{
    QByteArray out;
    out.reserve(160 + (message.payload.size() + 2) / 3 * 4);
    out.append(R"({"event":"media","sequenceNumber":)");
    out.append(counter(message.sequenceNumber));
    out.append(R"(,"streamSid":)");
    out.append(jsonString(message.streamSid));
    out.append(R"(,"media":{"track":)");
    out.append(jsonString(message.track));
    out.append(R"(,"chunk":)");
    out.append(counter(message.chunk));
    out.append(R"(,"timestamp":)");
    out.append(counter(message.timestampMs));
    out.append(R"(,"payload":")");
    out.append(message.payload.toBase64());
    out.append("\"}}");
    return out;
}

QByteArray toJson(const DtmfEvent &message)
{
    return R"({"event":"dtmf","sequenceNumber":)" + counter(message.sequenceNumber) + R"(,"streamSid":)"
        + jsonString(message.streamSid) + R"(,"dtmf":{"track":)" + jsonString(message.track)
        + R"(,"digit":)" + jsonString(QString(message.digit)) + "}}";
}

QByteArray toJson(const MarkEvent &message)
{
    return R"({"event":"mark","sequenceNumber":)" + counter(message.sequenceNumber) + R"(,"streamSid":)"
        + jsonString(message.streamSid) + R"(,"mark":{"name":)" + jsonString(message.name) + "}}";
}

QByteArray toJson(const StopEvent &message)
{
    return R"({"event":"stop","sequenceNumber":)" + counter(message.sequenceNumber) + R"(,"streamSid":)"
        + jsonString(message.streamSid) + R"(,"stop":{"accountSid":)" + jsonString(message.accountSid)
        + R"(,"callSid":)" + jsonString(message.callSid) + "}}";
}

} // namespace apex::twilio
