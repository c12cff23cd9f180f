#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace apex::waha {

// Why a webhook was or was not accepted as WAHA's.
enum class SignatureCheck {
    Valid,
    Missing,              // no X-Webhook-Hmac
    Wrong,                // present, but not HMAC-SHA512(key, body)
    UnsupportedAlgorithm, // X-Webhook-Hmac-Algorithm names something other than sha512
};

const char *signatureCheckName(SignatureCheck check);

// WAHA signs the raw request body: X-Webhook-Hmac is the hex HMAC-SHA512 of
// it under the session's hmac.key, and X-Webhook-Hmac-Algorithm says
// "sha512". The bytes as received are checked, never re-serialised JSON (any
// whitespace or key order change would break the signature). An absent
// algorithm header is read as sha512, the only one WAHA sends.
SignatureCheck checkSignature(QByteArrayView key, QByteArrayView body, QByteArrayView hmacHeader,
                              QByteArrayView algorithmHeader);

// Hex HMAC-SHA512, as WAHA puts it in X-Webhook-Hmac (for fakes and tests).
QByteArray sign(QByteArrayView key, QByteArrayView body);

} // namespace apex::waha
