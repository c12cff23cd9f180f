#pragma once

#include "llm/responder.h"
#include "stt/speechrecognizer.h"
#include "tenancy/providerconfig.h"
#include "tts/speechsynthesizer.h"

#include <QHash>

namespace apex {

class TenantRegistry;

// Per-tenant provider choice (chooseProviders: the tenant's pin, else the cloud
// provider whose key is set, else the embedded one) behind the single factory
// interfaces the call session sees. Unknown or unregistered names fall back to
// the embedded provider, registered under `embeddedName`.

class RoutingRecognizerFactory : public SpeechRecognizerFactory
{
public:
    RoutingRecognizerFactory(ProviderConfig config, QHash<QString, SpeechRecognizerFactory *> byName);
    QString name() const override { return QStringLiteral("routing"); }
    void prepareTenant(const Tenant &tenant) override;
    std::unique_ptr<SpeechRecognizer> create(const Tenant &tenant, const QString &callId) override;
    SpeechRecognizerFactory *forTenant(const Tenant &tenant) const;

private:
    ProviderConfig m_config;
    QHash<QString, SpeechRecognizerFactory *> m_byName;
};

class RoutingResponderFactory : public ResponderFactory
{
public:
    RoutingResponderFactory(ProviderConfig config, QHash<QString, ResponderFactory *> byName);
    QString name() const override { return QStringLiteral("routing"); }
    std::unique_ptr<Responder> create(const Tenant &tenant) override;
    ResponderFactory *forTenant(const Tenant &tenant) const;

private:
    ProviderConfig m_config;
    QHash<QString, ResponderFactory *> m_byName;
};

class RoutingSynthesizer : public SpeechSynthesizer
{
public:
    RoutingSynthesizer(ProviderConfig config, const TenantRegistry *tenants, QHash<QString, SpeechSynthesizer *> byName);
    QString name() const override { return QStringLiteral("routing"); }
    bool supports(const SynthesisRequest &request) const override;
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override;
    SpeechSynthesizer *forTenant(const QString &tenantId) const;

private:
    ProviderConfig m_config;
    const TenantRegistry *m_tenants;
    QHash<QString, SpeechSynthesizer *> m_byName;
};

} // namespace apex
