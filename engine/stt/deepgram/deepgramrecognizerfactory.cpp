#include "stt/deepgram/deepgramrecognizerfactory.h"

#include "tenancy/tenant.h"

namespace apex {

DeepgramRecognizerFactory::DeepgramRecognizerFactory(DeepgramSettings settings)
    : m_settings(std::move(settings))
{
}

void DeepgramRecognizerFactory::prepareTenant(const Tenant &tenant)
{
    // Nothing to build; a wrong language or model shows up as a refused
    // handshake on the first call, which the fallback chain absorbs.
    log::CallLogger("stt", {}, tenant.id)
        .info("deepgram: model {}, language {}, endpointing {} ms", m_settings.model,
              tenant.language.isEmpty() ? QStringLiteral("en") : tenant.language, tenant.endpointingMs);
}

std::unique_ptr<SpeechRecognizer> DeepgramRecognizerFactory::create(const Tenant &tenant, const QString &callId)
{
    return createRecognizer(DeepgramCallSettings::forTenant(tenant, callId));
}

std::unique_ptr<DeepgramRecognizer> DeepgramRecognizerFactory::createRecognizer(const DeepgramCallSettings &call)
{
    return std::make_unique<DeepgramRecognizer>(m_settings, call);
}

} // namespace apex
