// WAHA webhook bodies from anyone who can reach the port (the signature is
// checked first, but the parser must hold even without it): refused with a
// reason, or a message whose reply address came from the body.
#include "whatsapp/wahaevent.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    waha::ParseError error;
    const auto message = waha::parseEvent(body, &error);
    if (!message && error.message.isEmpty())
        std::abort();
    // A message the channel would answer names who to answer and what to dedupe on.
    const bool answerable = message && (message->kind == waha::InboundKind::Text || message->kind == waha::InboundKind::NotText);
    if (answerable && (message->chatId.isEmpty() || message->dedupeId().isEmpty()))
        std::abort();
    return 0;
}
