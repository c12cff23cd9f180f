#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

#include <initializer_list>

namespace apex {

// Every Redis key APEX writes is built here: apex:{tenant}:{part}:{part}...
// A tenant's keys therefore share one prefix no other tenant can reach, and
// nothing a caller supplies can forge another key: parts are escaped so ':'
// (our separator), '{'/'}' (Cluster hash tags), glob characters, '%', spaces
// and control bytes never appear raw. Ids such as "whatsapp:+4915…" or
// "4915…@c.us" stay readable; only the unsafe bytes become %XX.
class RedisKeys
{
public:
    static constexpr int maxTenantIdLength = 64;
    static constexpr int maxPartLength = 256; // bytes before escaping

    // [A-Za-z0-9_-]{1,64}: used raw in keys, so no escaping is ever needed.
    static bool isValidTenantId(QStringView tenantId);

    // Bytes outside [A-Za-z0-9_.+@-] become %XX (upper-case hex).
    static QByteArray escapePart(QByteArrayView part);

    // apex:<tenant>:<escaped part>:...; empty when the tenant id is invalid, no
    // part is given, or a part is empty or longer than maxPartLength.
    static QByteArray key(const QString &tenantId, std::initializer_list<QByteArrayView> parts);

    // apex:<tenant>:session:<kind>:<id>; kind is [a-z]{1,16} ("call", "chat").
    // Empty on invalid input, like key().
    static QByteArray sessionKey(const QString &tenantId, const QString &kind, const QString &id);
};

} // namespace apex
