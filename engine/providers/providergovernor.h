#pragma once

#include "providers/aimdlimiter.h"
#include "providers/breakerregistry.h"
#include "providers/tenantlimit.h"
#include "tenancy/engineconfig.h"

#include <QJsonObject>

namespace apex {

class PrometheusText;

// Everything that governs providers across calls, in one place so every engine
// thread shares it: the breakers, the global LLM concurrency limit, and the
// tenants' quotas. Thread-safe; logs every breaker transition.
class ProviderGovernor
{
public:
    explicit ProviderGovernor(const EngineConfig &config);

    ProviderGovernor(const ProviderGovernor &) = delete;
    ProviderGovernor &operator=(const ProviderGovernor &) = delete;

    BreakerRegistry &breakers() { return m_breakers; }
    AimdLimiter &llmConcurrency() { return m_llmConcurrency; }
    TenantLimit &tenantQuotas() { return m_tenantQuotas; }
    const GovernanceSettings &settings() const { return m_settings; }

    // For /stats and the console: breakers, the LLM limit, tenant quotas.
    QJsonObject toJson() const;
    // For /metrics: apex_breaker_state{provider,endpoint} and friends.
    void writeMetrics(PrometheusText &out) const;

private:
    const GovernanceSettings m_settings;
    BreakerRegistry m_breakers;
    AimdLimiter m_llmConcurrency;
    TenantLimit m_tenantQuotas;
};

} // namespace apex
