// The voice webhook's form body and X-Twilio-Signature: any body, URL and
// header; parsing and validation must never crash, and a signature we compute
// must validate.
#include "telephony/twiliosignature.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex::twilio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // Input: URL-target \0 signature \0 body.
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const QList<QByteArray> parts = input.split('\0');
    const QByteArray target = parts.value(0);
    const QByteArray header = parts.value(1);
    const QByteArray body = parts.value(2);

    const QString url = requestUrl(u"https://voice.example.net", target);
    (void)signatureUrlCandidates(url);
    const FormParams params = parseFormBody(body);
    (void)validFormPost("token", url, body, header);
    (void)validJsonPost("token", url, body, header);
    const QByteArray signature = computeSignature("token", url, params);
    if (!validSignature("token", url, params, signature))
        std::abort();
    return 0;
}
