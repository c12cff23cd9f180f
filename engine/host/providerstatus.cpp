#include "host/providerstatus.h"

#include <QJsonArray>

namespace apex {

namespace {

ProviderStatus::BreakerState breakerState(const QString &name)
{
    if (name == QLatin1String("closed"))
        return ProviderStatus::BreakerState::Closed;
    if (name == QLatin1String("open"))
        return ProviderStatus::BreakerState::Open;
    if (name == QLatin1String("half-open"))
        return ProviderStatus::BreakerState::HalfOpen;
    return ProviderStatus::BreakerState::Unknown;
}

} // namespace

QString breakerStateText(ProviderStatus::BreakerState state)
{
    switch (state) {
    case ProviderStatus::BreakerState::Closed: return QStringLiteral("closed");
    case ProviderStatus::BreakerState::Open: return QStringLiteral("open");
    case ProviderStatus::BreakerState::HalfOpen: return QStringLiteral("half-open");
    case ProviderStatus::BreakerState::Unknown: break;
    }
    return QStringLiteral("unknown");
}

ProviderStatus ProviderStatus::fromStats(const QJsonObject &stats)
{
    ProviderStatus out;
    out.engineAnswered = !stats.isEmpty();
    const QJsonObject governance = stats.value(QLatin1String("governance")).toObject();
    for (const QJsonValue &value : governance.value(QLatin1String("breakers")).toArray()) {
        const QJsonObject b = value.toObject();
        Breaker breaker;
        breaker.provider = b.value(QLatin1String("provider")).toString();
        breaker.endpoint = b.value(QLatin1String("endpoint")).toString();
        breaker.state = breakerState(b.value(QLatin1String("state")).toString());
        breaker.consecutiveFailures = b.value(QLatin1String("consecutiveFailures")).toInt();
        breaker.failureThreshold = b.value(QLatin1String("failureThreshold")).toInt();
        breaker.totalFailures = qint64(b.value(QLatin1String("totalFailures")).toDouble());
        breaker.timesOpened = qint64(b.value(QLatin1String("timesOpened")).toDouble());
        breaker.lastError = b.value(QLatin1String("lastError")).toString();
        breaker.nextProbeInSeconds = b.value(QLatin1String("nextProbeInSeconds")).toDouble();
        out.breakers.append(breaker);
    }
    if (governance.contains(QLatin1String("llmConcurrency"))) {
        const QJsonObject llm = governance.value(QLatin1String("llmConcurrency")).toObject();
        out.hasLlmConcurrency = true;
        out.llmLimit = llm.value(QLatin1String("limit")).toInt();
        out.llmInFlight = llm.value(QLatin1String("inFlight")).toInt();
        out.llmRefused = qint64(llm.value(QLatin1String("refused")).toDouble());
        out.llmBlockedForSeconds = llm.value(QLatin1String("blockedForSeconds")).toDouble();
    }
    for (const QJsonValue &value : governance.value(QLatin1String("tenantQuotas")).toArray()) {
        const QJsonObject t = value.toObject();
        out.tenantQuotas.append(TenantQuota{t.value(QLatin1String("tenant")).toString(),
                                            t.value(QLatin1String("inUse")).toInt(),
                                            t.value(QLatin1String("quota")).toInt(),
                                            qint64(t.value(QLatin1String("refused")).toDouble())});
    }
    if (stats.contains(QLatin1String("whatsapp"))) {
        out.whatsAppConfigured = true;
        const QJsonObject lines = stats.value(QLatin1String("whatsapp")).toObject().value(QLatin1String("tenants")).toObject();
        for (auto it = lines.begin(); it != lines.end(); ++it) {
            const QJsonObject line = it.value().toObject();
            out.whatsAppLines.append(WhatsAppLine{
                it.key(), line.value(QLatin1String("state")).toString(), line.value(QLatin1String("detail")).toString(),
                QDateTime::fromString(line.value(QLatin1String("since")).toString(), Qt::ISODateWithMs)});
        }
    }
    return out;
}

} // namespace apex
