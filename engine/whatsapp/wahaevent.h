#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace apex::waha {

// What an incoming WhatsApp message asks of us.
enum class InboundKind {
    Text,            // a text to answer
    NotText,         // voice note, image, sticker, location...: answered with a polite line
    FromMe,          // our own message (message.any, or sent from the phone): never answered
    Group,           // ...@g.us: the agent does not talk in groups
    StatusBroadcast, // status@broadcast: someone's status update
    OtherEvent,      // not a "message" event (session.status, message.ack, ...)
};

const char *inboundKindName(InboundKind kind);

// One WAHA webhook event, reduced to what the channel needs (protocols.md §6):
//   {"id":"evt_…","event":"message","session":"default","me":{"id":"9198…@c.us"},
//    "payload":{"id":"false_9198…@c.us_3EB0…","from":"9198…@c.us","fromMe":false,
//               "to":"…","body":"Hi","hasMedia":false}}
struct InboundMessage
{
    QString eventId;   // the envelope's id; older WAHA builds omit it
    QString event;     // "message", "message.any", ...
    QString session;   // WAHA session name: the tenant's, or "default"
    QString meId;      // our own WhatsApp id, when WAHA says it
    QString messageId; // payload.id: stable across redeliveries
    QString chatId;    // payload.from for an incoming message: who to answer
    QString to;        // payload.to: our number as the sender addressed it
    QString body;
    bool fromMe = false;
    bool hasMedia = false;
    InboundKind kind = InboundKind::OtherEvent;

    // The id a redelivery repeats: the message id, else the event id.
    QString dedupeId() const { return messageId.isEmpty() ? eventId : messageId; }
};

struct ParseError
{
    QString message;
};

// Reads a webhook body. nullopt with *error when it is not JSON, not an
// object, or a message event without the fields a reply needs (from, id).
// Events other than messages parse fine, as OtherEvent.
std::optional<InboundMessage> parseEvent(const QByteArray &body, ParseError *error);

} // namespace apex::waha
