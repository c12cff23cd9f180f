#pragma once

#include <QStringList>

namespace apex {

struct EngineConfig;

// What `apex-engine --check-config` warns about before the engine faces a
// network: operator routes or calls open beyond loopback, a public URL Twilio
// will not sign or reach. Empty: nothing to say.
QStringList securityWarnings(const EngineConfig &config);

} // namespace apex
