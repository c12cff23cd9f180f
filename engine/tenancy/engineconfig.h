#pragma once

#include "tenancy/networklimits.h"
#include "tenancy/providerconfig.h"
#include "tenancy/tenant.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace apex {

// What the engine reads at start-up: where to listen, how Twilio reaches it and
// the tenants. Loaded once, then handed out as immutable copies.
// How providers are governed across calls (the "governance" object). The
// breaker thresholds are the seed's: Azure opens sooner than the LLM, because
// a sentence that cannot be spoken is heard at once.
struct GovernanceSettings
{
    int breakerCoolDownMs = 30000;
    int azureFailureThreshold = 3;
    int llmFailureThreshold = 5;
    int deepgramFailureThreshold = 5;
    int llmConcurrencyInitial = 8;
    int llmConcurrencyCeiling = 64;
    int ttsFirstAudioDeadlineMs = 600;
    int ttsStallMs = 600;
    int llmStallMs = 1000;
    int sttResultDeadlineMs = 700;
    // Connections each HTTP provider may open per engine thread before its
    // requests queue (Qt alone stops at six per host).
    int httpConnectionsPerProvider = 256;
    int wahaFailureThreshold = 5;
};

// How the WhatsApp channel behaves (the "whatsapp" object); where WAHA is and
// its keys are provider settings (ProviderConfig::waha*).
struct WhatsAppSettings
{
    // Set it in WAHA as the session's webhook URL: {publicUrl}{webhookPath}.
    QString webhookPath = QStringLiteral("/waha/webhook");
    // WhatsApp's limit for one text message; longer replies are split at sentence ends.
    int maxMessageChars = 4096;
    // A redelivered event (same message id) within this window is answered once.
    int dedupeWindowSeconds = 3600;
    int dedupeCapacity = 10000;
    // Replies waiting for WAHA (breaker open); beyond it the oldest is dropped.
    int outboxCapacity = 500;
    // A reply still not delivered after this long is dropped: an answer hours
    // late is worse than none.
    int outboxMaxAgeSeconds = 900;
    // WAHA holds a request up to 5 s for a session that is not WORKING before
    // its 422: the deadline must be longer.
    int requestTimeoutMs = 15000;
    // A reply that takes longer (both responders) is replaced by the fallback line.
    int replyDeadlineMs = 60000;
};

// Where calls and chats are recorded (the "history" object, $APEX_HISTORY_URL).
struct HistorySettings
{
    // sqlite:///abs/path.sqlite, postgresql://user:pass@host:port/db, or "off".
    // The loader fills in the default file in the state directory when absent;
    // an EngineConfig built in code records nothing unless it is set.
    QString url;
    int queueCapacity = 20000; // rows waiting for the database; beyond it new rows are dropped and counted
    int batchMaxRows = 500;    // rows per transaction at most
};

struct EngineConfig
{
    QString listen = QStringLiteral("127.0.0.1:8080");
    QString publicUrl;          // https://host as Twilio sees it; empty: derived from listen
    QString defaultTenantId;    // empty: the first tenant
    QList<Tenant> tenants;
    ProviderConfig providers;
    bool prewarmAtStart = true; // fill the TTS cache with every tenant's fixed phrases
    GovernanceSettings governance;
    // On SIGTERM live calls may finish for this long; then they hear the
    // tenant's goodbye line and the engine exits.
    int drainMs = 30000;
    NetworkLimits limits;       // the `limits` object: timeouts, sizes, connection caps
    WhatsAppSettings whatsapp;  // the `whatsapp` object
    HistorySettings history;    // the `history` object
    // Bearer token for /stats, /metrics and any operator API (APEX_OPERATOR_TOKEN,
    // config `operatorToken`). Empty: those answer loopback peers only.
    QString operatorToken;
    QString sourcePath;         // the file it came from, for messages
};

struct ConfigError
{
    QString message;
};

class EngineConfigLoader
{
public:
    // The file named by --config, else $APEX_CONFIG, else ~/.config/apex/apex.json
    // if present, else the shipped resources/config/apex.json.
    static QString resolvePath(const QString &commandLinePath);

    static std::optional<EngineConfig> loadFile(const QString &path, ConfigError *error);
    static std::optional<EngineConfig> parse(const QByteArray &json, ConfigError *error);
    // $APEX_LISTEN, $APEX_PUBLIC_URL and the provider variables (see
    // ProviderConfig::applyEnvironment) override the file; a command line overrides both.
    static void applyEnvironment(EngineConfig &config);
    // The history file when the config names none: $STATE_DIRECTORY (systemd's
    // StateDirectory=) if set, else the user's application data directory.
    static QString defaultHistoryUrl();
    // Fields a tenant may omit take the Tenant struct's defaults.
    static std::optional<Tenant> parseTenant(const QJsonObject &object, ConfigError *error);
};

} // namespace apex
