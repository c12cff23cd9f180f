#include "http/securitycheck.h"

#include "http/listenaddress.h"
#include "tenancy/engineconfig.h"

#include <QUrl>

namespace apex {

QStringList securityWarnings(const EngineConfig &config)
{
    QStringList warnings;
    const auto listen = ListenAddress::parse(config.listen);
    const bool beyondLoopback = listen && !listen->address.isLoopback();
    if (beyondLoopback && config.operatorToken.isEmpty()) {
        warnings << QStringLiteral("listening on %1, beyond loopback, without an operator token: /stats and /metrics "
                                   "answer loopback peers only; set APEX_OPERATOR_TOKEN (or operatorToken) to read "
                                   "them from elsewhere with Authorization: Bearer")
                        .arg(config.listen);
    }
    if (config.providers.twilioAuthToken.isEmpty()) {
        warnings << QStringLiteral("no Twilio auth token (TWILIO_AUTH_TOKEN or providers.twilioAuthToken): voice "
                                   "webhooks are not signature-checked and anyone who can reach %1 can open a media "
                                   "stream and name any tenant")
                        .arg(config.listen);
    }
    if (!config.publicUrl.isEmpty()) {
        const QString scheme = QUrl(config.publicUrl).scheme().toLower();
        if (scheme != QLatin1String("https") && scheme != QLatin1String("wss"))
            warnings << QStringLiteral("publicUrl %1 is not https: Twilio requires https webhooks and wss media "
                                       "streams (terminate TLS in a reverse proxy in front of the engine)")
                            .arg(config.publicUrl);
    } else if (beyondLoopback) {
        warnings << QStringLiteral("no publicUrl while listening beyond loopback: the TwiML's stream URL is derived "
                                   "from the Host header and is ws://, which Twilio does not accept");
    }
    return warnings;
}

} // namespace apex
