#include "providers/providerrouting.h"

#include "tenancy/tenantregistry.h"

namespace apex {

namespace {

template<typename T>
T *pick(const QHash<QString, T *> &byName, const QString &wanted, const char *embedded)
{
    if (T *chosen = byName.value(wanted))
        return chosen;
    return byName.value(QString::fromLatin1(embedded));
}

} // namespace

RoutingRecognizerFactory::RoutingRecognizerFactory(ProviderConfig config, QHash<QString, SpeechRecognizerFactory *> byName)
    : m_config(std::move(config))
    , m_byName(std::move(byName))
{
}

SpeechRecognizerFactory *RoutingRecognizerFactory::forTenant(const Tenant &tenant) const
{
    return pick(m_byName, chooseProviders(m_config, tenant).stt, "pocketsphinx");
}

void RoutingRecognizerFactory::prepareTenant(const Tenant &tenant)
{
    forTenant(tenant)->prepareTenant(tenant);
}

std::unique_ptr<SpeechRecognizer> RoutingRecognizerFactory::create(const Tenant &tenant, const QString &callId)
{
    return forTenant(tenant)->create(tenant, callId);
}

RoutingResponderFactory::RoutingResponderFactory(ProviderConfig config, QHash<QString, ResponderFactory *> byName)
    : m_config(std::move(config))
    , m_byName(std::move(byName))
{
}

ResponderFactory *RoutingResponderFactory::forTenant(const Tenant &tenant) const
{
    return pick(m_byName, chooseProviders(m_config, tenant).llm, "faq");
}

std::unique_ptr<Responder> RoutingResponderFactory::create(const Tenant &tenant)
{
    return forTenant(tenant)->create(tenant);
}

RoutingSynthesizer::RoutingSynthesizer(ProviderConfig config, const TenantRegistry *tenants,
                                       QHash<QString, SpeechSynthesizer *> byName)
    : m_config(std::move(config))
    , m_tenants(tenants)
    , m_byName(std::move(byName))
{
}

SpeechSynthesizer *RoutingSynthesizer::forTenant(const QString &tenantId) const
{
    const TenantPtr tenant = m_tenants->find(tenantId);
    const QString wanted = tenant ? chooseProviders(m_config, *tenant).tts : QString();
    return pick(m_byName, wanted, "embedded");
}

bool RoutingSynthesizer::supports(const SynthesisRequest &request) const
{
    return forTenant(request.tenantId)->supports(request);
}

SynthesisJob *RoutingSynthesizer::synthesize(const SynthesisRequest &request, QObject *parent)
{
    return forTenant(request.tenantId)->synthesize(request, parent);
}

} // namespace apex
