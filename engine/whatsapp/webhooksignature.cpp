#include "whatsapp/webhooksignature.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>

namespace apex::waha {

namespace {

bool equalConstantTime(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
    return diff == 0;
}

} // namespace

const char *signatureCheckName(SignatureCheck check)
{
    switch (check) {
    case SignatureCheck::Valid: return "valid";
    case SignatureCheck::Missing: return "missing";
    case SignatureCheck::Wrong: return "wrong";
    case SignatureCheck::UnsupportedAlgorithm: return "unsupported-algorithm";
    }
    return "unknown";
}

QByteArray sign(QByteArrayView key, QByteArrayView body)
{
    return QMessageAuthenticationCode::hash(body.toByteArray(), key.toByteArray(), QCryptographicHash::Sha512).toHex();
}

SignatureCheck checkSignature(QByteArrayView key, QByteArrayView body, QByteArrayView hmacHeader,
                              QByteArrayView algorithmHeader)
{
    const QByteArray algorithm = algorithmHeader.toByteArray().trimmed().toLower();
    if (!algorithm.isEmpty() && algorithm != "sha512")
        return SignatureCheck::UnsupportedAlgorithm;
    const QByteArray given = hmacHeader.toByteArray().trimmed().toLower();
    if (given.isEmpty())
        return SignatureCheck::Missing;
    return equalConstantTime(given, sign(key, body)) ? SignatureCheck::Valid : SignatureCheck::Wrong;
}

} // namespace apex::waha
