#include "store/rediskeys.h"

namespace apex {

namespace {

bool isSafeKeyByte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
        || c == '.' || c == '+' || c == '@';
}

} // namespace

bool RedisKeys::isValidTenantId(QStringView tenantId)
{
    if (tenantId.isEmpty() || tenantId.size() > maxTenantIdLength)
        return false;
    for (QChar c : tenantId) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u == '-';
        if (!ok)
            return false;
    }
    return true;
}

QByteArray RedisKeys::escapePart(QByteArrayView part)
{
    static const char hex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(part.size());
    for (char c : part) {
        if (isSafeKeyByte(c)) {
            out.append(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.append('%');
            out.append(hex[b >> 4]);
            out.append(hex[b & 0x0f]);
        }
    }
    return out;
}

QByteArray RedisKeys::key(const QString &tenantId, std::initializer_list<QByteArrayView> parts)
{
    if (!isValidTenantId(tenantId) || parts.size() == 0)
        return {};
    QByteArray out = QByteArrayLiteral("apex:") + tenantId.toLatin1();
    for (QByteArrayView part : parts) {
        if (part.isEmpty() || part.size() > maxPartLength)
            return {};
        out.append(':');
        out.append(escapePart(part));
    }
    return out;
}

QByteArray RedisKeys::sessionKey(const QString &tenantId, const QString &kind, const QString &id)
{
    if (kind.isEmpty() || kind.size() > 16)
        return {};
    for (QChar c : kind) {
        if (c.unicode() < 'a' || c.unicode() > 'z')
            return {};
    }
    return key(tenantId, {QByteArrayView("session"), QByteArrayView(kind.toLatin1()), QByteArrayView(id.toUtf8())});
}

} // namespace apex
