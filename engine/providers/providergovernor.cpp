#include "providers/providergovernor.h"

#include "observability/logging.h"
#include "providers/breakerpass.h"
#include "observability/prometheustext.h"

#include <QJsonArray>

namespace apex {

namespace {

BreakerPolicies policiesFrom(const GovernanceSettings &s)
{
    const std::chrono::milliseconds coolDown(s.breakerCoolDownMs);
    BreakerPolicies policies = BreakerPolicies::defaults(coolDown);
    policies.perProvider.insert(QString::fromLatin1(kAzureTtsBreaker), BreakerPolicy{s.azureFailureThreshold, coolDown});
    policies.perProvider.insert(QString::fromLatin1(kLlmBreaker), BreakerPolicy{s.llmFailureThreshold, coolDown});
    policies.perProvider.insert(QString::fromLatin1(kDeepgramBreaker), BreakerPolicy{s.deepgramFailureThreshold, coolDown});
    policies.perProvider.insert(QString::fromLatin1(kWahaBreaker), BreakerPolicy{s.wahaFailureThreshold, coolDown});
    return policies;
}

double secondsUntil(const std::optional<std::chrono::steady_clock::time_point> &at)
{
    if (!at)
        return 0;
    const auto left = *at - std::chrono::steady_clock::now();
    return std::max(0.0, std::chrono::duration<double>(left).count());
}

int stateNumber(BreakerState state)
{
    switch (state) {
    case BreakerState::Closed: return 0;
    case BreakerState::HalfOpen: return 1;
    case BreakerState::Open: return 2;
    }
    return 0;
}

} // namespace

ProviderGovernor::ProviderGovernor(const EngineConfig &config)
    : m_settings(config.governance)
    , m_breakers(policiesFrom(config.governance))
    , m_llmConcurrency(AimdPolicy{std::min(config.governance.llmConcurrencyInitial, config.governance.llmConcurrencyCeiling),
                                  config.governance.llmConcurrencyCeiling})
{
    for (const Tenant &tenant : config.tenants)
        m_tenantQuotas.setQuota(tenant.id, tenant.llmConcurrencyQuota);
    // On the thread whose call caused it, under the breaker's lock: a log line only.
    m_breakers.setTransitionListener([](const BreakerKey &key, const BreakerTransition &t) {
        auto logger = log::get("providers");
        const auto level = t.to == BreakerState::Closed ? spdlog::level::info : spdlog::level::warn;
        const std::string &caller = BreakerPass::currentCallerLogPrefix();
        logger->log(level, "{}breaker {}/{}: {} -> {}{}", caller.empty() ? std::string("call=- tenant=- ") : caller,
                    key.provider, key.endpoint, breakerStateName(t.from),
                    breakerStateName(t.to), t.reason.isEmpty() ? QString() : QStringLiteral(" (") + t.reason + QLatin1Char(')'));
    });
}

QJsonObject ProviderGovernor::toJson() const
{
    QJsonArray breakers;
    for (const BreakerReport &r : m_breakers.reports()) {
        breakers.append(QJsonObject{
            {QStringLiteral("provider"), r.key.provider},
            {QStringLiteral("endpoint"), r.key.endpoint},
            {QStringLiteral("state"), breakerStateName(r.snapshot.state)},
            {QStringLiteral("failureThreshold"), r.policy.failureThreshold},
            {QStringLiteral("consecutiveFailures"), r.snapshot.consecutiveFailures},
            {QStringLiteral("totalFailures"), double(r.snapshot.totalFailures)},
            {QStringLiteral("timesOpened"), double(r.snapshot.timesOpened)},
            {QStringLiteral("lastError"), r.snapshot.lastError},
            {QStringLiteral("nextProbeInSeconds"), secondsUntil(r.snapshot.nextProbeAt)},
        });
    }
    const AimdSnapshot llm = m_llmConcurrency.snapshot(AimdLimiter::Clock::now());
    QJsonArray tenants;
    for (const TenantUsage &u : m_tenantQuotas.snapshot()) {
        tenants.append(QJsonObject{{QStringLiteral("tenant"), u.tenantId},
                                   {QStringLiteral("inUse"), u.inUse},
                                   {QStringLiteral("quota"), u.quota},
                                   {QStringLiteral("refused"), double(u.refused)}});
    }
    return QJsonObject{
        {QStringLiteral("breakers"), breakers},
        {QStringLiteral("llmConcurrency"), QJsonObject{{QStringLiteral("limit"), llm.limit},
                                                       {QStringLiteral("inFlight"), llm.inFlight},
                                                       {QStringLiteral("refused"), double(llm.refused)},
                                                       {QStringLiteral("decreases"), double(llm.decreases)},
                                                       {QStringLiteral("blockedForSeconds"), secondsUntil(llm.blockedUntil)}}},
        {QStringLiteral("tenantQuotas"), tenants},
    };
}

void ProviderGovernor::writeMetrics(PrometheusText &out) const
{
    const QList<BreakerReport> reports = m_breakers.reports();
    auto labels = [](const BreakerReport &r) {
        return PrometheusText::Labels{{QStringLiteral("provider"), r.key.provider}, {QStringLiteral("endpoint"), r.key.endpoint}};
    };
    out.family(QStringLiteral("apex_breaker_state"), "gauge", QStringLiteral("Circuit breaker state: 0 closed, 1 half-open, 2 open."));
    for (const BreakerReport &r : reports)
        out.sample(QStringLiteral("apex_breaker_state"), stateNumber(r.snapshot.state), labels(r));
    out.family(QStringLiteral("apex_breaker_failures_total"), "counter", QStringLiteral("Provider failures counted by its breaker."));
    for (const BreakerReport &r : reports)
        out.sample(QStringLiteral("apex_breaker_failures_total"), double(r.snapshot.totalFailures), labels(r));
    out.family(QStringLiteral("apex_breaker_opened_total"), "counter", QStringLiteral("Times the breaker opened."));
    for (const BreakerReport &r : reports)
        out.sample(QStringLiteral("apex_breaker_opened_total"), double(r.snapshot.timesOpened), labels(r));

    const AimdSnapshot llm = m_llmConcurrency.snapshot(AimdLimiter::Clock::now());
    auto gauge = [&out](const char *name, const char *type, const char *help, double value) {
        out.family(QLatin1String(name), type, QLatin1String(help));
        out.sample(QLatin1String(name), value);
    };
    gauge("apex_llm_concurrency_limit", "gauge", "The AIMD limit on concurrent LLM requests.", llm.limit);
    gauge("apex_llm_in_flight", "gauge", "LLM requests in flight.", llm.inFlight);
    gauge("apex_llm_refused_total", "counter", "LLM requests answered by the fallback because the limit was reached.", double(llm.refused));
    gauge("apex_llm_limit_decreases_total", "counter", "Halvings of the LLM limit on 429.", double(llm.decreases));
    out.family(QStringLiteral("apex_tenant_llm_refused_total"), "counter", QStringLiteral("LLM requests refused by the tenant's quota."));
    for (const TenantUsage &u : m_tenantQuotas.snapshot())
        out.sample(QStringLiteral("apex_tenant_llm_refused_total"), double(u.refused), {{QStringLiteral("tenant"), u.tenantId}});
}

} // namespace apex
