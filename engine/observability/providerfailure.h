#pragma once

#include <QString>

#include <chrono>

namespace apex {

// Why a provider let a call down, as a stable code: what breakers count, what
// /metrics labels and log lines name. Every provider (STT, LLM, TTS, later
// WAHA) reports its failures in these words, so governance needs no knowledge
// of any one provider's messages.
enum class FailureKind {
    Connect,      // could not reach it: DNS, refused, TLS, dropped before a reply
    Timeout,      // no first byte, or a stall, past the deadline
    ServerError,  // 5xx, or an error event in the stream
    RateLimited,  // 429 that outlived our retries
    Unauthorized, // 401/403, or a key or URL that cannot work: retrying will not heal it
    Protocol,     // a reply we could not read, or one that ended too early
};

struct ProviderFailure
{
    FailureKind kind = FailureKind::Protocol;
    int httpStatus = 0;                  // 0 when none was seen
    std::chrono::milliseconds retryAfter{0}; // the provider's retry-after, when it gave one
};

inline QString failureKindName(FailureKind kind)
{
    switch (kind) {
    case FailureKind::Connect: return QStringLiteral("connect");
    case FailureKind::Timeout: return QStringLiteral("timeout");
    case FailureKind::ServerError: return QStringLiteral("server-error");
    case FailureKind::RateLimited: return QStringLiteral("rate-limited");
    case FailureKind::Unauthorized: return QStringLiteral("unauthorized");
    case FailureKind::Protocol: return QStringLiteral("protocol");
    }
    return QStringLiteral("unknown");
}

// The usual reading of an HTTP status a provider answered with.
inline FailureKind failureKindForHttpStatus(int status)
{
    if (status == 401 || status == 403)
        return FailureKind::Unauthorized;
    if (status == 429)
        return FailureKind::RateLimited;
    if (status >= 500)
        return FailureKind::ServerError;
    return FailureKind::Protocol;
}

} // namespace apex
