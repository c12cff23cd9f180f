#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QLatin1String>
#include <QMutex>
#include <QString>
#include <QStringView>

#include <map>

// The proof a media stream was announced by our own voice webhook: anyone can
// open /twilio/media, only the webhook (behind X-Twilio-Signature) can mint this.
namespace apex {

enum class StreamTokenReason {
    Ok,
    Malformed,       // not a token at all: wrong size, bad base64, bad layout
    BadSignature,    // well formed, but not signed under our key
    Expired,
    Replayed,        // already consumed once
    ReplayCacheFull, // too many live tokens consumed: refused rather than forgotten
};

// Stable names for logs and metric labels.
QLatin1String streamTokenReasonName(StreamTokenReason reason);

struct StreamTokenCheck
{
    StreamTokenReason reason = StreamTokenReason::Malformed;
    // Set only when reason is Ok.
    QString tenantId;
    QString callSid;
    qint64 expiresAtUnixMs = 0;

    bool ok() const { return reason == StreamTokenReason::Ok; }
};

struct StreamTokenLimits
{
    // From the webhook's answer to the stream's `start`: normally well under a
    // second, but Twilio may retry the webhook and a slow network adds up.
    qint64 lifetimeMs = 60'000;
    // Consumed nonces are kept until their token expires; this bounds that set.
    // At lifetime 60 s, 100 000 is ~1 666 new calls per second.
    qsizetype maxConsumedNonces = 100'000;
};

// Token layout, base64url without padding:
//   version(1) | expiry unix ms (8, big endian) | nonce (16)
//   | len(1) tenant UTF-8 | len(1) call sid UTF-8 | HMAC-SHA256 of all before (32)
// About 130 characters for a usual tenant and a 34-character CallSid, well under
// Twilio's 500-character <Parameter> budget.
//
// Thread-safe: issue() and verify() may be called from any thread at once.
class StreamTokenIssuer
{
public:
    explicit StreamTokenIssuer(QByteArray key, StreamTokenLimits limits = {});

    // A key for this process only: tokens die with it, which is fine for tokens
    // that live a minute, but several engine processes behind one webhook need
    // a shared key (derivedKey()).
    static QByteArray randomKey();
    // A key derived from a shared secret (the Twilio auth token) rather than the
    // secret itself, so a token never doubles as a Twilio signature.
    static QByteArray derivedKey(QByteArrayView secret);

    // Empty when tenantId or callSid is empty or longer than 255 UTF-8 bytes.
    QString issue(const QString &tenantId, const QString &callSid, qint64 nowUnixMs) const;
    QString issue(const QString &tenantId, const QString &callSid) const;

    // Consumes the token on success: a second verify of the same token is Replayed.
    // The caller must still compare callSid with the `start` message's callSid:
    // a token lifted from one call's TwiML must not open a stream for another.
    StreamTokenCheck verify(QStringView token, qint64 nowUnixMs);
    StreamTokenCheck verify(QStringView token);

    qsizetype consumedNonceCount() const;

private:
    void purgeExpiredLocked(qint64 nowUnixMs);

    const QByteArray m_key;
    const StreamTokenLimits m_limits;

    mutable QMutex m_mutex;
    QHash<QByteArray, qint64> m_consumed; // nonce → expiry
    std::multimap<qint64, QByteArray> m_byExpiry;
};

} // namespace apex
