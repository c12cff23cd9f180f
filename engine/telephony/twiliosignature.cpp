#include "telephony/twiliosignature.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>
#include <utility>
#include <vector>

namespace apex::twilio {

namespace {

// Length is public (a signature's size is fixed); only the content must not leak
// through how long the comparison takes.
bool equalConstantTime(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
    return diff == 0;
}

// Where the authority of "scheme://authority/…" ends, or -1 without "://".
qsizetype authorityEnd(const QString &url, qsizetype authorityStart)
{
    qsizetype end = authorityStart;
    while (end < url.size()) {
        const QChar c = url.at(end);
        if (c == u'/' || c == u'?' || c == u'#')
            break;
        ++end;
    }
    return end;
}

QLatin1String defaultPortSuffix(const QString &scheme)
{
    if (scheme == QLatin1String("https") || scheme == QLatin1String("wss"))
        return QLatin1String(":443");
    if (scheme == QLatin1String("http") || scheme == QLatin1String("ws"))
        return QLatin1String(":80");
    return QLatin1String();
}

QString queryOf(const QString &url)
{
    const qsizetype question = url.indexOf(u'?');
    if (question < 0)
        return {};
    const qsizetype hash = url.indexOf(u'#', question);
    return url.mid(question + 1, hash < 0 ? -1 : hash - question - 1);
}

} // namespace

FormParams parseFormBody(QByteArrayView body)
{
    // QUrlQuery follows RFC 3986, where '+' is a literal; forms mean a space.
    // A real plus arrives as %2B and is untouched by this.
    QByteArray encoded = body.toByteArray();
    encoded.replace('+', "%20");
    QUrlQuery query;
    query.setQuery(QString::fromUtf8(encoded));
    FormParams params;
    const auto items = query.queryItems(QUrl::FullyDecoded);
    params.reserve(items.size());
    for (const auto &item : items) {
        if (item.first.isEmpty() && item.second.isEmpty())
            continue;
        params.append(item);
    }
    return params;
}

QString requestUrl(QStringView publicOrigin, QByteArrayView requestTarget)
{
    QString url = publicOrigin.toString();
    while (url.endsWith(u'/'))
        url.chop(1);
    if (!requestTarget.startsWith('/'))
        url += u'/';
    // Raw bytes, not a decoded path: Twilio signed the percent-encoding it sent.
    url += QString::fromUtf8(requestTarget);
    return url;
}

QByteArray computeSignature(QByteArrayView authToken, const QString &url, const FormParams &params)
{
    std::vector<std::pair<QByteArray, QByteArray>> sorted;
    sorted.reserve(std::size_t(params.size()));
    for (const auto &[name, value] : params)
        sorted.emplace_back(name.toUtf8(), value.toUtf8());
    // QByteArray orders by unsigned bytes: the UTF-8 byte order Twilio's
    // validators (which sort by code point) agree with.
    std::sort(sorted.begin(), sorted.end());

    QMessageAuthenticationCode mac(QCryptographicHash::Sha1, authToken.toByteArray());
    mac.addData(url.toUtf8());
    for (const auto &[name, value] : sorted) {
        mac.addData(name);
        mac.addData(value);
    }
    return mac.result().toBase64();
}

QStringList signatureUrlCandidates(const QString &url)
{
    QStringList candidates{url};
    const qsizetype schemeEnd = url.indexOf(QLatin1String("://"));
    if (schemeEnd <= 0)
        return candidates;
    const qsizetype start = schemeEnd + 3;
    const qsizetype end = authorityEnd(url, start);
    if (end == start)
        return candidates;
    const qsizetype at = url.lastIndexOf(u'@', end - 1);
    const qsizetype hostStart = at >= start ? at + 1 : start;

    // Walk back over the port's digits; stopping at ']' keeps IPv6 colons out.
    qsizetype colon = -1;
    for (qsizetype i = end - 1; i >= hostStart; --i) {
        const QChar c = url.at(i);
        if (c == u':') {
            colon = i;
            break;
        }
        if (c < u'0' || c > u'9')
            break;
    }

    if (colon >= 0) {
        candidates.append(url.left(colon) + url.mid(end));
    } else {
        const QLatin1String port = defaultPortSuffix(url.left(schemeEnd).toLower());
        if (!port.isEmpty())
            candidates.append(url.left(end) + port + url.mid(end));
    }
    candidates.removeDuplicates();
    return candidates;
}

bool validSignature(QByteArrayView authToken, const QString &url, const FormParams &params,
                    QByteArrayView signatureHeader)
{
    // An empty key is a key anyone knows.
    if (authToken.isEmpty())
        return false;
    const QByteArrayView header = signatureHeader.trimmed();
    if (header.isEmpty())
        return false;
    for (const QString &candidate : signatureUrlCandidates(url)) {
        if (equalConstantTime(computeSignature(authToken, candidate, params), header))
            return true;
    }
    return false;
}

bool validFormPost(QByteArrayView authToken, const QString &url, QByteArrayView formBody,
                   QByteArrayView signatureHeader)
{
    return validSignature(authToken, url, parseFormBody(formBody), signatureHeader);
}

bool validJsonPost(QByteArrayView authToken, const QString &url, QByteArrayView body,
                   QByteArrayView signatureHeader)
{
    const QStringList hashes = QUrlQuery(queryOf(url)).allQueryItemValues(QStringLiteral("bodySHA256"),
                                                                          QUrl::FullyDecoded);
    // Two hashes would leave it open which one the sender meant.
    if (hashes.size() != 1)
        return false;
    const QByteArray expected = QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex();
    const bool bodyMatches = equalConstantTime(expected, hashes.first().toLower().toLatin1());
    const bool urlMatches = validSignature(authToken, url, {}, signatureHeader);
    return bodyMatches && urlMatches;
}

} // namespace apex::twilio
