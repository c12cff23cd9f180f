// The config file, as an operator's typo or a damaged file leaves it: loading
// refuses with a message or gives a config whose tenants have ids.
#include "tenancy/engineconfig.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray json(reinterpret_cast<const char *>(data), qsizetype(size));
    ConfigError error;
    const auto config = EngineConfigLoader::parse(json, &error);
    if (!config && error.message.isEmpty())
        std::abort(); // a refusal always says why
    if (config) {
        for (const Tenant &tenant : config->tenants) {
            if (tenant.id.isEmpty())
                std::abort();
        }
    }
    return 0;
}
