#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace apex {

// What governs the providers across calls, as the console shows it: read once
// from a /stats snapshot (its `governance` and `whatsapp` sections) into typed
// values, so widgets never pick at string-keyed JSON.
struct ProviderStatus
{
    enum class BreakerState { Closed, Open, HalfOpen, Unknown };

    struct Breaker
    {
        QString provider;
        QString endpoint;
        BreakerState state = BreakerState::Unknown;
        int consecutiveFailures = 0;
        int failureThreshold = 0;
        qint64 totalFailures = 0;
        qint64 timesOpened = 0;
        QString lastError;
        double nextProbeInSeconds = 0; // 0: no probe scheduled
    };
    struct TenantQuota
    {
        QString tenantId;
        int inUse = 0;
        int quota = 0; // 0: no quota of its own
        qint64 refused = 0;
    };
    struct WhatsAppLine
    {
        QString tenantId;
        QString state; // WAHA's words: OK, CORE_LIMIT, SESSION_NOT_WORKING, UNKNOWN
        QString detail;
        QDateTime since;
    };

    bool engineAnswered = false; // false: no snapshot (engine not running)
    QList<Breaker> breakers;
    bool hasLlmConcurrency = false;
    int llmLimit = 0;
    int llmInFlight = 0;
    qint64 llmRefused = 0;
    double llmBlockedForSeconds = 0;
    QList<TenantQuota> tenantQuotas;
    bool whatsAppConfigured = false;
    QList<WhatsAppLine> whatsAppLines;

    static ProviderStatus fromStats(const QJsonObject &stats);
};

QString breakerStateText(ProviderStatus::BreakerState state);

} // namespace apex
