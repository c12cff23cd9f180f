#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QStringView>

// X-Twilio-Signature (protocols.md §1.5): who may call the voice webhook.
// Pure functions, safe from any thread.
namespace apex::twilio {

// Decoded form fields in the order they arrived; a name may repeat.
using FormParams = QList<QPair<QString, QString>>;

// application/x-www-form-urlencoded → fields, '+' read as a space and
// percent-escapes decoded as UTF-8. Empty segments ("a=1&&b=2") are skipped:
// they add nothing to a signature and no form parser reports them.
FormParams parseFormBody(QByteArrayView body);

// The public URL Twilio requested: the configured origin ("https://host[:port]",
// as written in the Twilio console) plus the raw request target from the request
// line. Behind a proxy the Host header and scheme we see are not the ones Twilio
// signed, so the origin must come from configuration, never from the request.
QString requestUrl(QStringView publicOrigin, QByteArrayView requestTarget);

// base64(HMAC-SHA1(authToken, url + Σ name+value)) with the fields sorted by
// name and, for a repeated name, by value (UTF-8 byte order both, as Twilio's
// helper libraries do). The url is signed exactly as given.
QByteArray computeSignature(QByteArrayView authToken, const QString &url, const FormParams &params);

// The spellings of url Twilio may have signed: Twilio's backend is inconsistent
// about the port, so its own validators accept the URL with any explicit port
// removed and, when none is given, with the scheme's default one (:443 for
// https/wss, :80 for http/ws) added. The url as given is always first.
QStringList signatureUrlCandidates(const QString &url);

// A form POST (or, with no params, a GET or the media WebSocket upgrade, whose
// header is the lowercase x-twilio-signature over the wss:// URL). False for an
// empty token or header. The header is compared in constant time.
bool validSignature(QByteArrayView authToken, const QString &url, const FormParams &params,
                    QByteArrayView signatureHeader);

// Convenience: parseFormBody() then validSignature().
bool validFormPost(QByteArrayView authToken, const QString &url, QByteArrayView formBody,
                   QByteArrayView signatureHeader);

// A JSON POST: Twilio signs the URL alone and puts hex(SHA-256(body)) in the
// URL's bodySHA256 query parameter. False when that parameter is missing, since
// the body would then be unauthenticated.
bool validJsonPost(QByteArrayView authToken, const QString &url, QByteArrayView body,
                   QByteArrayView signatureHeader);

} // namespace apex::twilio
