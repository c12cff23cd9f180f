#pragma once

#include <QString>
#include <QUrl>

namespace apex {

struct ProviderConfig;
struct Tenant;

// How APEX talks to Deepgram's live endpoint; shared by every call. The key goes
// only into the Authorization header, never into a URL or a log line.
struct DeepgramSettings
{
    QString url = QStringLiteral("wss://api.deepgram.com/v1/listen");
    QString apiKey;
    QString model = QStringLiteral("nova-2");
    // "mulaw" forwards Twilio's bytes untouched; "linear16" decodes them to
    // 16-bit LE PCM at 8 kHz first (twice the bytes, for servers without mu-law).
    QString encoding = QStringLiteral("mulaw");
    int utteranceEndMs = 1000;
    bool smartFormat = true;
    int keepAliveIntervalMs = 4000; // Deepgram closes 1011 NET-0001 after ~10 s without audio or text
    int reconnectAttempts = 3;      // consecutive failed connections before failed()
    int replayBufferMs = 30000;     // audio since the last is_final result (and while connecting): re-sent on connect
    int closeTimeoutMs = 2000;      // after CloseStream: how long to wait for Metadata

    static DeepgramSettings fromProviderConfig(const ProviderConfig &config);
};

// What differs per call: the tenant's language and endpointing, and who to log as.
struct DeepgramCallSettings
{
    QString language = QStringLiteral("en");
    int endpointingMs = 250;
    QString callId;
    QString tenantId;

    static DeepgramCallSettings forTenant(const Tenant &tenant, const QString &callId);
};

// settings.url with the /v1/listen query for one call (no secret in it).
QUrl deepgramListenUrl(const DeepgramSettings &settings, const DeepgramCallSettings &call);

} // namespace apex
