// Twilio Media Streams JSON, both directions: whatever a peer sends must parse
// or be refused, never crash; what parses must write back and parse the same.
#include "telephony/twiliomessages.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex::twilio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView frame(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto inbound = parseInbound(frame);
    if (inbound.ok()) {
        std::visit(
            [](const auto &event) {
                // A round trip through our writer must be readable by our reader.
                const QByteArray json = toJson(event);
                if (!parseInbound(json).ok())
                    std::abort();
            },
            inbound.value());
    }
    (void)parseOutbound(frame);
    return 0;
}
