#include "telephony/streamtoken.h"

#include <QDateTime>
#include <QMessageAuthenticationCode>
#include <QMutexLocker>
#include <QRandomGenerator>
#include <QtEndian>

#include <array>

namespace apex {

namespace {

constexpr char kVersion = 1;
constexpr qsizetype kNonceBytes = 16;
constexpr qsizetype kMacBytes = 32;
constexpr qsizetype kMaxFieldBytes = 255;
constexpr qsizetype kMinPayloadBytes = 1 + 8 + kNonceBytes + 1 + 1 + 1 + 1;
constexpr qsizetype kMaxPayloadBytes = 1 + 8 + kNonceBytes + 1 + kMaxFieldBytes + 1 + kMaxFieldBytes;
// Anything longer cannot be ours; refusing it before decoding keeps a 1 MB
// "token" as cheap as a short one.
constexpr qsizetype kMaxTokenChars = ((kMaxPayloadBytes + kMacBytes) * 4 + 2) / 3;

constexpr auto kBase64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

bool equalConstantTime(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
    return diff == 0;
}

QByteArray sign(const QByteArray &key, QByteArrayView payload)
{
    QMessageAuthenticationCode mac(QCryptographicHash::Sha256, key);
    mac.addData(payload.data(), payload.size());
    return mac.result();
}

StreamTokenCheck refused(StreamTokenReason reason)
{
    StreamTokenCheck check;
    check.reason = reason;
    return check;
}

} // namespace

QLatin1String streamTokenReasonName(StreamTokenReason reason)
{
    switch (reason) {
    case StreamTokenReason::Ok: return QLatin1String("ok");
    case StreamTokenReason::Malformed: return QLatin1String("malformed");
    case StreamTokenReason::BadSignature: return QLatin1String("bad_signature");
    case StreamTokenReason::Expired: return QLatin1String("expired");
    case StreamTokenReason::Replayed: return QLatin1String("replayed");
    case StreamTokenReason::ReplayCacheFull: return QLatin1String("replay_cache_full");
    }
    return QLatin1String("unknown");
}

StreamTokenIssuer::StreamTokenIssuer(QByteArray key, StreamTokenLimits limits)
    : m_key(std::move(key))
    , m_limits(limits)
{
}

QByteArray StreamTokenIssuer::randomKey()
{
    std::array<quint32, 8> words;
    QRandomGenerator::system()->fillRange(words.data(), qsizetype(words.size()));
    return QByteArray(reinterpret_cast<const char *>(words.data()), qsizetype(sizeof(words)));
}

QByteArray StreamTokenIssuer::derivedKey(QByteArrayView secret)
{
    QMessageAuthenticationCode mac(QCryptographicHash::Sha256, secret.toByteArray());
    mac.addData(QByteArrayLiteral("apex stream token v1"));
    return mac.result();
}

QString StreamTokenIssuer::issue(const QString &tenantId, const QString &callSid, qint64 nowUnixMs) const
{
    const QByteArray tenant = tenantId.toUtf8();
    const QByteArray call = callSid.toUtf8();
    if (tenant.isEmpty() || call.isEmpty() || tenant.size() > kMaxFieldBytes || call.size() > kMaxFieldBytes)
        return {};

    std::array<quint32, kNonceBytes / 4> nonce;
    QRandomGenerator::system()->fillRange(nonce.data(), qsizetype(nonce.size()));
    char expiry[8];
    qToBigEndian<qint64>(nowUnixMs + m_limits.lifetimeMs, expiry);

    QByteArray payload;
    payload.reserve(kMinPayloadBytes + tenant.size() + call.size() + kMacBytes);
    payload += kVersion;
    payload.append(expiry, sizeof(expiry));
    payload.append(reinterpret_cast<const char *>(nonce.data()), kNonceBytes);
    payload += char(tenant.size());
    payload += tenant;
    payload += char(call.size());
    payload += call;
    payload += sign(m_key, payload);
    return QString::fromLatin1(payload.toBase64(kBase64));
}

QString StreamTokenIssuer::issue(const QString &tenantId, const QString &callSid) const
{
    return issue(tenantId, callSid, QDateTime::currentMSecsSinceEpoch());
}

StreamTokenCheck StreamTokenIssuer::verify(QStringView token, qint64 nowUnixMs)
{
    if (token.size() > kMaxTokenChars || token.isEmpty())
        return refused(StreamTokenReason::Malformed);
    QByteArray encoded;
    encoded.reserve(token.size());
    for (const QChar c : token) {
        if (c.unicode() > 0x7f)
            return refused(StreamTokenReason::Malformed);
        encoded += char(c.unicode());
    }
    auto decoded = QByteArray::fromBase64Encoding(encoded, kBase64 | QByteArray::AbortOnBase64DecodingErrors);
    // A lenient decoder ignores a final character's spare bits and padding, so
    // several spellings decode alike; only the one we issue is accepted.
    if (!decoded || decoded.decoded.toBase64(kBase64) != encoded)
        return refused(StreamTokenReason::Malformed);
    const QByteArray &raw = decoded.decoded;
    if (raw.size() < kMinPayloadBytes + kMacBytes)
        return refused(StreamTokenReason::Malformed);

    const QByteArrayView payload = QByteArrayView(raw).first(raw.size() - kMacBytes);
    if (!equalConstantTime(sign(m_key, payload), QByteArrayView(raw).last(kMacBytes)))
        return refused(StreamTokenReason::BadSignature);

    // Signed by us from here on; the layout checks guard against our own bugs
    // and a key shared with an incompatible version.
    if (payload.at(0) != kVersion)
        return refused(StreamTokenReason::Malformed);
    qsizetype at = 1;
    const qint64 expiresAt = qFromBigEndian<qint64>(payload.data() + at);
    at += 8;
    const QByteArray nonce = payload.sliced(at, kNonceBytes).toByteArray();
    at += kNonceBytes;
    const qsizetype tenantBytes = static_cast<unsigned char>(payload.at(at++));
    if (tenantBytes == 0 || at + tenantBytes + 1 > payload.size())
        return refused(StreamTokenReason::Malformed);
    const QString tenantId = QString::fromUtf8(payload.sliced(at, tenantBytes));
    at += tenantBytes;
    const qsizetype callBytes = static_cast<unsigned char>(payload.at(at++));
    if (callBytes == 0 || at + callBytes != payload.size())
        return refused(StreamTokenReason::Malformed);
    const QString callSid = QString::fromUtf8(payload.sliced(at, callBytes));

    if (expiresAt <= nowUnixMs)
        return refused(StreamTokenReason::Expired);

    {
        QMutexLocker lock(&m_mutex);
        purgeExpiredLocked(nowUnixMs);
        if (m_consumed.contains(nonce))
            return refused(StreamTokenReason::Replayed);
        if (m_consumed.size() >= m_limits.maxConsumedNonces)
            return refused(StreamTokenReason::ReplayCacheFull);
        m_consumed.insert(nonce, expiresAt);
        m_byExpiry.emplace(expiresAt, nonce);
    }

    StreamTokenCheck check;
    check.reason = StreamTokenReason::Ok;
    check.tenantId = tenantId;
    check.callSid = callSid;
    check.expiresAtUnixMs = expiresAt;
    return check;
}

StreamTokenCheck StreamTokenIssuer::verify(QStringView token)
{
    return verify(token, QDateTime::currentMSecsSinceEpoch());
}

qsizetype StreamTokenIssuer::consumedNonceCount() const
{
    QMutexLocker lock(&m_mutex);
    return m_consumed.size();
}

void StreamTokenIssuer::purgeExpiredLocked(qint64 nowUnixMs)
{
    // An expired token is refused as Expired before the nonce set is consulted,
    // so forgetting its nonce cannot let it replay.
    auto it = m_byExpiry.begin();
    while (it != m_byExpiry.end() && it->first <= nowUnixMs) {
        m_consumed.remove(it->second);
        it = m_byExpiry.erase(it);
    }
}

} // namespace apex
