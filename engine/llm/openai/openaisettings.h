#pragma once

#include <QByteArrayView>
#include <QMetaType>
#include <QString>

namespace apex {

struct ProviderConfig;

// How to reach one OpenAI-compatible chat completions server: Groq by default,
// also OpenAI, Ollama, llama.cpp and vLLM (protocols.md §4).
struct OpenAiSettings
{
    QString baseUrl = QStringLiteral("https://api.groq.com/openai/v1");
    QString apiKey; // never logged; maskSecret() when shown
    // Groq's recommended replacement for llama-3.3-70b-versatile, decommissioned
    // on 2026-08-16 for free and developer tiers: LLM_MODEL brings it back where
    // a contract still serves it.
    QString model = QStringLiteral("openai/gpt-oss-120b");
    double temperature = 0.3;
    int maxCompletionTokens = 256;
    int firstTokenDeadlineMs = 5000; // request -> first *spoken* token; 0 disables
    int stallTimeoutMs = 5000;       // no byte at all for this long; 0 disables
    QString reasoningEffort;         // empty: not sent; "low" for gpt-oss (low|medium|high)

    // The reasoning_effort a model gets by default: "low" for gpt-oss, whose
    // reasoning otherwise delays the first spoken word by seconds; nothing for
    // the rest, which may reject the field.
    static QString defaultReasoningEffortFor(const QString &model);
};

// Base URL, key and model from the engine's provider configuration
// (LLM_BASE_URL, GROQ_API_KEY / LLM_API_KEY, LLM_MODEL), with the model's
// default reasoning effort.
OpenAiSettings openAiSettingsFrom(const ProviderConfig &config);

// What one response said about the organisation's rate limits (Groq's
// x-ratelimit-* headers, retry-after on 429). -1: the server did not say.
// For the AIMD limiter; arrives once per HTTP response that carried any of them.
struct RateLimitInfo
{
    int httpStatus = 0;
    qint64 limitRequests = -1;     // x-ratelimit-limit-requests (Groq: per day)
    qint64 remainingRequests = -1; // x-ratelimit-remaining-requests
    qint64 resetRequestsMs = -1;   // x-ratelimit-reset-requests ("2m59.56s")
    qint64 limitTokens = -1;       // x-ratelimit-limit-tokens (Groq: per minute)
    qint64 remainingTokens = -1;   // x-ratelimit-remaining-tokens
    qint64 resetTokensMs = -1;     // x-ratelimit-reset-tokens ("7.66s")
    double retryAfterSeconds = -1; // retry-after header, else the 429 message's "try again in 1.5s"

    bool isRateLimited() const { return httpStatus == 429; }
    bool hasAny() const;
};

// Timings of one turn on the monotonic clock (observability/clock.h), -1 when a
// moment never came, and usage as the server reported it (-1: not reported).
struct LlmTurnStats
{
    qint64 requestNs = -1;        // respond() sent the first attempt
    qint64 firstByteNs = -1;      // response headers of the attempt that streamed
    qint64 firstReasoningNs = -1; // first reasoning delta (never spoken)
    qint64 firstContentNs = -1;   // first spoken token: what TTFT means here
    qint64 doneNs = -1;           // [DONE], end of stream, or failure
    int promptTokens = -1;
    int completionTokens = -1;    // includes reasoning tokens on reasoning models
    double tokensPerSecond = 0;   // completion tokens over first token -> done
    int attempts = 0;             // 2 after a 429 retry
    int httpStatus = 0;
    int contentDeltas = 0;
    int reasoningDeltas = 0;
    QString finishReason;         // stop | length | content_filter | tool_calls

    double timeToFirstContentMs() const { return firstContentNs >= 0 && requestNs >= 0 ? double(firstContentNs - requestNs) / 1e6 : -1; }
};

// Why a turn failed, stable for metrics, breakers and the fallback chain; the
// failed() signal carries the human detail.
enum class LlmFailure {
    None,
    Configuration,     // bad base URL
    Network,           // connection refused, DNS, TLS
    Auth,              // 401/403: key rejected
    RateLimited,       // 429 with no retry that fits the first-token deadline
    ModelUnavailable,  // model_not_found / model_decommissioned: LLM_MODEL must change
    Http,              // any other non-2xx
    StreamError,       // error object (or x_groq.error) inside the stream
    Malformed,         // unparseable chunk, over-long line
    ClosedEarly,       // connection ended before finish_reason / [DONE]
    FirstTokenTimeout, // no spoken token within firstTokenDeadlineMs
    Stall,             // no byte for stallTimeoutMs
    EmptyReply,        // finished without one spoken token (reasoning ate the budget)
};
const char *llmFailureName(LlmFailure failure);

// Groq's durations: "2m59.56s", "7.66s", "450ms", "1h2m", or bare seconds ("2",
// "1.5"). Milliseconds, or -1 when unparseable.
qint64 parseRateLimitDurationMs(QByteArrayView text);

} // namespace apex

Q_DECLARE_METATYPE(apex::RateLimitInfo)
