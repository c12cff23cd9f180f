#include "whatsapp/wahaevent.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace apex::waha {

namespace {

bool fail(ParseError *error, const QString &message)
{
    if (error)
        error->message = message;
    return false;
}

InboundKind classify(const InboundMessage &m)
{
    if (m.event != QLatin1String("message") && m.event != QLatin1String("message.any"))
        return InboundKind::OtherEvent;
    if (m.fromMe)
        return InboundKind::FromMe;
    if (m.chatId == QLatin1String("status@broadcast"))
        return InboundKind::StatusBroadcast;
    if (m.chatId.endsWith(QLatin1String("@g.us")))
        return InboundKind::Group;
    // A caption makes an image no more readable to us than a voice note.
    if (m.hasMedia || m.body.trimmed().isEmpty())
        return InboundKind::NotText;
    return InboundKind::Text;
}

} // namespace

const char *inboundKindName(InboundKind kind)
{
    switch (kind) {
    case InboundKind::Text: return "text";
    case InboundKind::NotText: return "not-text";
    case InboundKind::FromMe: return "from-me";
    case InboundKind::Group: return "group";
    case InboundKind::StatusBroadcast: return "status-broadcast";
    case InboundKind::OtherEvent: return "other-event";
    }
    return "unknown";
}

std::optional<InboundMessage> parseEvent(const QByteArray &body, ParseError *error)
{
    QJsonParseError jsonError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &jsonError);
    if (doc.isNull()) {
        fail(error, QStringLiteral("invalid JSON at offset %1: %2").arg(jsonError.offset).arg(jsonError.errorString()));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        fail(error, QStringLiteral("the event is not a JSON object"));
        return std::nullopt;
    }
    const QJsonObject root = doc.object();
    InboundMessage m;
    m.eventId = root.value(QLatin1String("id")).toString();
    m.event = root.value(QLatin1String("event")).toString();
    m.session = root.value(QLatin1String("session")).toString();
    m.meId = root.value(QLatin1String("me")).toObject().value(QLatin1String("id")).toString();
    if (m.event.isEmpty()) {
        fail(error, QStringLiteral("the event has no \"event\" field"));
        return std::nullopt;
    }
    if (m.event != QLatin1String("message") && m.event != QLatin1String("message.any"))
        return m; // OtherEvent

    const QJsonValue payloadValue = root.value(QLatin1String("payload"));
    if (!payloadValue.isObject()) {
        fail(error, QStringLiteral("a %1 event without a payload object").arg(m.event));
        return std::nullopt;
    }
    const QJsonObject payload = payloadValue.toObject();
    m.messageId = payload.value(QLatin1String("id")).toString();
    m.chatId = payload.value(QLatin1String("from")).toString();
    m.to = payload.value(QLatin1String("to")).toString();
    m.body = payload.value(QLatin1String("body")).toString();
    m.fromMe = payload.value(QLatin1String("fromMe")).toBool();
    m.hasMedia = payload.value(QLatin1String("hasMedia")).toBool();
    if (m.session.isEmpty()) {
        fail(error, QStringLiteral("a message event without a session"));
        return std::nullopt;
    }
    if (m.messageId.isEmpty() && m.eventId.isEmpty()) {
        fail(error, QStringLiteral("a message without payload.id (nothing to tell a redelivery by)"));
        return std::nullopt;
    }
    if (m.chatId.isEmpty() && !m.fromMe) {
        fail(error, QStringLiteral("a message without payload.from"));
        return std::nullopt;
    }
    m.kind = classify(m);
    return m;
}

} // namespace apex::waha
