#include "tenancy/networklimits.h"

#include <QStringList>

#include <utility>

namespace apex {

bool NetworkLimits::read(const QJsonObject &object, QString *error)
{
    const std::pair<const char *, int *> fields[] = {
        {"streamStartTimeoutMs", &streamStartTimeoutMs},
        {"streamMediaTimeoutMs", &streamMediaTimeoutMs},
        {"requestHeaderTimeoutMs", &requestHeaderTimeoutMs},
        {"requestBodyTimeoutMs", &requestBodyTimeoutMs},
        {"maxBodyBytes", &maxBodyBytes},
        {"maxHeaderBytes", &maxHeaderBytes},
        {"maxHeaderCount", &maxHeaderCount},
        {"maxRequestLineBytes", &maxRequestLineBytes},
        {"maxConnections", &maxConnections},
        {"maxConnectionsPerAddress", &maxConnectionsPerAddress},
        {"logLinesPerSecondPerRemote", &logLinesPerSecondPerRemote},
    };
    QStringList known;
    for (const auto &[name, field] : fields) {
        known << QLatin1String(name);
        const QJsonValue value = object.value(QLatin1String(name));
        if (value.isUndefined())
            continue;
        const double number = value.toDouble(-1);
        if (!value.isDouble() || number < 1 || number > 1e9 || number != double(qint64(number))) {
            if (error)
                *error = QStringLiteral("limits.%1 must be a whole number from 1 to 1000000000").arg(QLatin1String(name));
            return false;
        }
        *field = int(number);
    }
    // A misspelt limit would silently keep its default: say so instead.
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!known.contains(it.key())) {
            if (error)
                *error = QStringLiteral("limits.%1 is not a known limit (known: %2)").arg(it.key(), known.join(QStringLiteral(", ")));
            return false;
        }
    }
    if (maxRequestLineBytes > maxHeaderBytes) {
        if (error)
            *error = QStringLiteral("limits.maxRequestLineBytes must not exceed limits.maxHeaderBytes");
        return false;
    }
    return true;
}

} // namespace apex
