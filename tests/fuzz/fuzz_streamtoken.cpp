// Stream tokens as an attacker would send them in `start`: anything must be
// refused cleanly, and only our own tokens accepted, once.
#include "telephony/streamtoken.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static StreamTokenIssuer issuer(StreamTokenIssuer::derivedKey("fuzz-secret"));
    const QString token = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    // Time moves 1 ms per input, so consumed nonces expire and are purged as in
    // service; a frozen clock would fill the replay cache after 100 000 inputs,
    // which the issuer rightly refuses (ReplayCacheFull) rather than forgets.
    static qint64 now = 1'700'000'000'000;
    ++now;
    const StreamTokenCheck check = issuer.verify(token, now);
    // A forgery would need the key: nothing the fuzzer writes may pass.
    if (check.ok())
        std::abort();

    // Our own token for fuzzer-chosen fields: accepted once, then replayed.
    const QString field = token.left(300);
    const QString issued = issuer.issue(field, field, now);
    if (!issued.isEmpty()) {
        const StreamTokenCheck first = issuer.verify(issued, now);
        if (!first.ok() || first.tenantId != field || first.callSid != field)
            std::abort();
        if (issuer.verify(issued, now).reason != StreamTokenReason::Replayed)
            std::abort();
    }
    return 0;
}
