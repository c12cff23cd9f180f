#include "llm/openai/openaisettings.h"

#include "tenancy/providerconfig.h"

namespace apex {

QString OpenAiSettings::defaultReasoningEffortFor(const QString &model)
{
    if (model.contains(QLatin1String("gpt-oss"), Qt::CaseInsensitive))
        return QStringLiteral("low");
    return {};
}

OpenAiSettings openAiSettingsFrom(const ProviderConfig &config)
{
    OpenAiSettings s;
    s.baseUrl = config.llmBaseUrl;
    s.apiKey = config.llmApiKey;
    if (!config.llmModel.isEmpty())
        s.model = config.llmModel;
    s.reasoningEffort = OpenAiSettings::defaultReasoningEffortFor(s.model);
    return s;
}

bool RateLimitInfo::hasAny() const
{
    return limitRequests >= 0 || remainingRequests >= 0 || resetRequestsMs >= 0 || limitTokens >= 0
        || remainingTokens >= 0 || resetTokensMs >= 0 || retryAfterSeconds >= 0;
}

const char *llmFailureName(LlmFailure failure)
{
    switch (failure) {
    case LlmFailure::None: return "none";
    case LlmFailure::Configuration: return "configuration";
    case LlmFailure::Network: return "network";
    case LlmFailure::Auth: return "auth";
    case LlmFailure::RateLimited: return "rate_limited";
    case LlmFailure::ModelUnavailable: return "model_unavailable";
    case LlmFailure::Http: return "http";
    case LlmFailure::StreamError: return "stream_error";
    case LlmFailure::Malformed: return "malformed";
    case LlmFailure::ClosedEarly: return "closed_early";
    case LlmFailure::FirstTokenTimeout: return "first_token_timeout";
    case LlmFailure::Stall: return "stall";
    case LlmFailure::EmptyReply: return "empty_reply";
    }
    return "unknown";
}

qint64 parseRateLimitDurationMs(QByteArrayView text)
{
    text = text.trimmed();
    if (text.isEmpty())
        return -1;
    double totalMs = 0;
    qsizetype i = 0;
    const qsizetype n = text.size();
    while (i < n) {
        const qsizetype numberStart = i;
        while (i < n && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
            ++i;
        if (i == numberStart)
            return -1;
        bool ok = false;
        const double value = text.sliced(numberStart, i - numberStart).toByteArray().toDouble(&ok);
        if (!ok)
            return -1;
        const qsizetype unitStart = i;
        while (i < n && ((text[i] >= 'a' && text[i] <= 'z') || text[i] == '\xC2' || text[i] == '\xB5'))
            ++i;
        const QByteArrayView unit = text.sliced(unitStart, i - unitStart);
        double scaleMs;
        if (unit.isEmpty() || unit == "s")
            scaleMs = 1000;
        else if (unit == "ms")
            scaleMs = 1;
        else if (unit == "m")
            scaleMs = 60'000;
        else if (unit == "h")
            scaleMs = 3'600'000;
        else if (unit == "us" || unit == "\xC2\xB5s")
            scaleMs = 0.001;
        else if (unit == "ns")
            scaleMs = 0.000001;
        else
            return -1;
        // A bare number is only valid alone ("2"), never inside "1m2".
        if (unit.isEmpty() && (numberStart != 0 || i != n))
            return -1;
        totalMs += value * scaleMs;
    }
    return qint64(totalMs + 0.5);
}

} // namespace apex
