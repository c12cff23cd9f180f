#include "llm/openai/openairesponder.h"

#include "observability/clock.h"
#include "tenancy/providerconfig.h"
#include "tenancy/tenant.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include "httpclient/httpclientpool.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QUrl>

namespace apex {

namespace {

// Error bodies are small JSON; a server that streams megabytes of HTML with a
// 502 must not grow our memory.
constexpr qsizetype kMaxErrorBodyBytes = 64 * 1024;
constexpr qsizetype kMaxJsonBodyBytes = 4 * 1024 * 1024;
// With the first-token deadline disabled, a 429 is still retried once if the
// server asks for at most this long.
constexpr qint64 kMaxRetryWaitMs = 10'000;
// After [DONE] the reply normally ends at once; a server that keeps the body
// open gets this long before we close it (which costs the keep-alive connection).
constexpr int kDrainMs = 2000;

QUrl completionsUrl(const QString &baseUrl)
{
    QString base = baseUrl.trimmed();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    return QUrl(base + QStringLiteral("/chat/completions"));
}

qint64 headerInteger(const QNetworkReply *reply, const char *name)
{
    if (!reply->hasRawHeader(name))
        return -1;
    bool ok = false;
    const qint64 v = reply->rawHeader(name).trimmed().toLongLong(&ok);
    return ok ? v : -1;
}

RateLimitInfo readRateLimitHeaders(const QNetworkReply *reply, int status)
{
    RateLimitInfo info;
    info.httpStatus = status;
    info.limitRequests = headerInteger(reply, "x-ratelimit-limit-requests");
    info.remainingRequests = headerInteger(reply, "x-ratelimit-remaining-requests");
    info.limitTokens = headerInteger(reply, "x-ratelimit-limit-tokens");
    info.remainingTokens = headerInteger(reply, "x-ratelimit-remaining-tokens");
    if (reply->hasRawHeader("x-ratelimit-reset-requests"))
        info.resetRequestsMs = parseRateLimitDurationMs(reply->rawHeader("x-ratelimit-reset-requests"));
    if (reply->hasRawHeader("x-ratelimit-reset-tokens"))
        info.resetTokensMs = parseRateLimitDurationMs(reply->rawHeader("x-ratelimit-reset-tokens"));
    if (reply->hasRawHeader("retry-after")) {
        bool ok = false;
        const double seconds = reply->rawHeader("retry-after").trimmed().toDouble(&ok);
        if (ok && seconds >= 0)
            info.retryAfterSeconds = seconds;
    }
    return info;
}

struct ApiError
{
    QString message;
    QString type;
    QString code;
};

QString jsonText(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isDouble())
        return QString::number(v.toDouble());
    return {};
}

// {"error":{"message","type","code"}} (OpenAI, Groq, vLLM); {"error":"text"}
// (Ollama, some proxies); anything else becomes the body's first 300 bytes.
ApiError parseApiError(const QByteArray &body)
{
    ApiError e;
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    const QJsonValue error = doc.object().value(QLatin1String("error"));
    if (error.isObject()) {
        const QJsonObject o = error.toObject();
        e.message = jsonText(o.value(QLatin1String("message")));
        e.type = jsonText(o.value(QLatin1String("type")));
        e.code = jsonText(o.value(QLatin1String("code")));
    } else if (error.isString()) {
        e.message = error.toString();
    } else {
        e.message = QString::fromUtf8(body.left(300)).simplified();
    }
    if (e.message.size() > 300)
        e.message = e.message.left(300) + QStringLiteral("…");
    return e;
}

// Groq's 429 message says "Please try again in 1.5s" even where retry-after is missing.
double retryAfterFromMessage(const QString &message)
{
    static const QRegularExpression re(QStringLiteral("try again in ([0-9][0-9.hmsµun]*)"), QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = re.match(message);
    if (!m.hasMatch())
        return -1;
    QString text = m.captured(1);
    while (text.endsWith(QLatin1Char('.')))
        text.chop(1); // the sentence's full stop
    const qint64 ms = parseRateLimitDurationMs(text.toUtf8());
    return ms >= 0 ? double(ms) / 1000.0 : -1;
}

QString errorSuffix(const ApiError &e)
{
    QString s;
    QStringList kinds;
    for (const QString &k : {e.type, e.code}) {
        if (!k.isEmpty())
            kinds.append(k);
    }
    if (!kinds.isEmpty())
        s += QStringLiteral(" [%1]").arg(kinds.join(QLatin1Char('/')));
    if (!e.message.isEmpty())
        s += QStringLiteral(": ") + e.message;
    return s;
}

int jsonInt(const QJsonObject &o, const char *key)
{
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isDouble() ? v.toInt() : -1;
}

} // namespace

// --- OpenAiResponder -------------------------------------------------------

OpenAiResponder::OpenAiResponder(OpenAiSettings settings, QObject *parent)
    : Responder(parent)
    , m_settings(std::move(settings))
    , m_log("llm")
{
    qRegisterMetaType<apex::RateLimitInfo>();
    m_firstTokenTimer.setSingleShot(true);
    m_stallTimer.setSingleShot(true);
    m_retryTimer.setSingleShot(true);
    m_firstTokenTimer.setTimerType(Qt::PreciseTimer);
    m_stallTimer.setTimerType(Qt::PreciseTimer);
    m_retryTimer.setTimerType(Qt::PreciseTimer);

    connect(&m_firstTokenTimer, &QTimer::timeout, this, [this] {
        QString progress;
        if (m_stats.firstReasoningNs >= 0)
            progress = QStringLiteral("the model was still reasoning (%1 reasoning deltas)").arg(m_stats.reasoningDeltas);
        else if (m_stats.firstByteNs >= 0)
            progress = QStringLiteral("headers came after %1 ms, then no token").arg(nsToMs(m_stats.firstByteNs - m_stats.requestNs), 0, 'f', 0);
        else if (m_retryTimer.isActive())
            progress = QStringLiteral("waiting out a 429");
        else
            progress = QStringLiteral("no response at all");
        fail(LlmFailure::FirstTokenTimeout,
             QStringLiteral("no spoken token from %1 (model %2) within the %3 ms first-token deadline: %4")
                 .arg(completionsUrl(m_settings.baseUrl).host(), m_settings.model)
                 .arg(m_settings.firstTokenDeadlineMs)
                 .arg(progress));
    });
    connect(&m_stallTimer, &QTimer::timeout, this, [this] {
        fail(LlmFailure::Stall, QStringLiteral("LLM stream stalled: no byte for %1 ms (after %2 spoken deltas)")
                                    .arg(m_settings.stallTimeoutMs)
                                    .arg(m_stats.contentDeltas));
    });
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        resetAttempt();
        sendRequest();
    });
}

OpenAiResponder::~OpenAiResponder()
{
    // The reply is a child of the manager, a child of ours; abort it while our
    // slots are disconnected so its finished() reaches nobody.
    abortReply();
}

void OpenAiResponder::bindLog(const QString &callId, const QString &tenantId)
{
    m_log.bind(callId, tenantId);
}

void OpenAiResponder::prepareCall(const QString &callId, const QString &tenantId)
{
    bindLog(callId, tenantId);
    warmUp();
}

void OpenAiResponder::warmUp()
{
    const QUrl url = completionsUrl(m_settings.baseUrl);
    if (url.scheme() == QLatin1String("https") || url.scheme() == QLatin1String("http"))
        HttpClientPool::forThread(QStringLiteral("llm"))->preconnect(url);
}

QByteArray OpenAiResponder::requestBody(const OpenAiSettings &settings, const ResponderRequest &request)
{
    QJsonArray messages;
    auto add = [&messages](const char *role, const QString &content) {
        messages.append(QJsonObject{{QStringLiteral("role"), QLatin1String(role)}, {QStringLiteral("content"), content}});
    };
    if (!request.systemPrompt.isEmpty())
        add("system", request.systemPrompt);
    for (const ConversationTurn &turn : request.history)
        add(turn.role == ConversationTurn::Role::Agent ? "assistant" : "user", turn.text);
    add("user", request.utterance);

    QJsonObject body{
        {QStringLiteral("model"), settings.model},
        {QStringLiteral("stream"), true},
        {QStringLiteral("temperature"), settings.temperature},
        {QStringLiteral("max_completion_tokens"), settings.maxCompletionTokens},
        {QStringLiteral("messages"), messages},
        {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}},
    };
    if (!settings.reasoningEffort.isEmpty())
        body.insert(QStringLiteral("reasoning_effort"), settings.reasoningEffort);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

void OpenAiResponder::respond(const ResponderRequest &request)
{
    abortReply();
    stopTimers();
    ++m_generation;
    m_active = true;
    m_retried = false;
    m_lastFailure = LlmFailure::None;
    m_stats = LlmTurnStats{};
    m_stats.requestNs = monotonicNowNs();
    resetAttempt();

    const QUrl url = completionsUrl(m_settings.baseUrl);
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))) {
        // Never emit from inside respond(): the caller may connect afterwards.
        const quint64 generation = m_generation;
        QTimer::singleShot(0, this, [this, generation] {
            if (generation == m_generation)
                fail(LlmFailure::Configuration, QStringLiteral("LLM base URL \"%1\" is not an http(s) URL (LLM_BASE_URL)").arg(m_settings.baseUrl));
        });
        return;
    }
    m_body = requestBody(m_settings, request);
    if (m_settings.firstTokenDeadlineMs > 0)
        m_firstTokenTimer.start(m_settings.firstTokenDeadlineMs);
    sendRequest();
}

void OpenAiResponder::resetAttempt()
{
    m_parser.reset();
    m_errorBody.clear();
    m_rateLimit = RateLimitInfo{};
    m_headersChecked = false;
    m_jsonBody = false;
}

void OpenAiResponder::sendRequest()
{
    const QUrl url = completionsUrl(m_settings.baseUrl);
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader("Accept", "text/event-stream");
    // Asking for identity keeps a compressing proxy from buffering the stream.
    request.setRawHeader("Accept-Encoding", "identity");
    if (!m_settings.apiKey.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_settings.apiKey.toUtf8());
    ++m_stats.attempts;
    m_log.debug("POST {} model {} key {} attempt {}", url.toString(), m_settings.model, maskSecret(m_settings.apiKey), m_stats.attempts);

    m_reply = HttpClientPool::forThread(QStringLiteral("llm"))->post(request, m_body);
    connect(m_reply, &QNetworkReply::requestSent, this, [this] { Q_EMIT requestSent(monotonicNowNs()); });
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &OpenAiResponder::onMetaDataChanged);
    connect(m_reply, &QIODevice::readyRead, this, &OpenAiResponder::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &OpenAiResponder::onReplyFinished);
    if (m_settings.stallTimeoutMs > 0)
        m_stallTimer.start(m_settings.stallTimeoutMs);
}

void OpenAiResponder::cancel()
{
    if (m_active)
        m_log.debug("cancelled after {} spoken deltas", m_stats.contentDeltas);
    ++m_generation;
    m_active = false;
    stopTimers();
    abortReply();
}

void OpenAiResponder::stopTimers()
{
    m_firstTokenTimer.stop();
    m_stallTimer.stop();
    m_retryTimer.stop();
}

void OpenAiResponder::abortReply()
{
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    disconnect(reply, nullptr, this, nullptr);
    reply->abort();
    reply->deleteLater();
}

void OpenAiResponder::detachReply()
{
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    disconnect(reply, nullptr, this, nullptr);
    if (reply->isFinished()) {
        reply->deleteLater();
        return;
    }
    // Let the body end on its own so the connection goes back to the pool.
    connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
    QTimer::singleShot(kDrainMs, reply, [reply] { reply->abort(); });
}

void OpenAiResponder::onMetaDataChanged()
{
    if (!m_headersChecked)
        checkHeaders();
}

bool OpenAiResponder::checkHeaders()
{
    if (m_headersChecked || !m_reply)
        return true;
    const QVariant statusAttribute = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!statusAttribute.isValid())
        return true; // no response yet (connection error on the way)
    m_headersChecked = true;
    const int status = statusAttribute.toInt();
    m_stats.httpStatus = status;
    if (m_stats.firstByteNs < 0 || status / 100 == 2)
        m_stats.firstByteNs = monotonicNowNs();
    if (m_settings.stallTimeoutMs > 0)
        m_stallTimer.start(m_settings.stallTimeoutMs);
    const QByteArray contentType = m_reply->header(QNetworkRequest::ContentTypeHeader).toByteArray().toLower();
    m_jsonBody = status / 100 == 2 && contentType.startsWith("application/json");

    m_rateLimit = readRateLimitHeaders(m_reply, status);
    if (m_rateLimit.hasAny()) {
        const QPointer<OpenAiResponder> self(this);
        const quint64 generation = m_generation;
        Q_EMIT rateLimitObserved(m_rateLimit);
        if (!self || generation != m_generation)
            return false;
    }
    return true;
}

void OpenAiResponder::onReadyRead()
{
    if (!m_reply)
        return;
    const QPointer<OpenAiResponder> self(this);
    const quint64 generation = m_generation;
    if (!checkHeaders() || !self || generation != m_generation || !m_reply)
        return;
    if (m_settings.stallTimeoutMs > 0)
        m_stallTimer.start(m_settings.stallTimeoutMs);
    const QByteArray chunk = m_reply->readAll();
    if (m_stats.httpStatus / 100 != 2 || m_jsonBody) {
        const qsizetype limit = m_jsonBody ? kMaxJsonBodyBytes : kMaxErrorBodyBytes;
        m_errorBody.append(chunk.left(qMax<qsizetype>(0, limit - m_errorBody.size())));
        return;
    }
    const QList<SseEvent> events = m_parser.feed(chunk);
    if (!handleEvents(events))
        return;
    if (m_parser.hasError())
        fail(LlmFailure::Malformed, QStringLiteral("unreadable LLM stream: %1").arg(m_parser.errorString()));
}

bool OpenAiResponder::handleEvents(const QList<SseEvent> &events)
{
    for (const SseEvent &event : events) {
        if (!handleEvent(event))
            return false;
    }
    return true;
}

bool OpenAiResponder::handleEvent(const SseEvent &event)
{
    if (event.isDone()) {
        complete();
        return false;
    }
    if (event.data.trimmed().isEmpty())
        return true;

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(event.data, &parseError);
    if (!doc.isObject()) {
        fail(LlmFailure::Malformed, QStringLiteral("unparseable LLM stream chunk (%1): %2")
                                        .arg(parseError.errorString(), QString::fromUtf8(event.data.left(120))));
        return false;
    }
    const QJsonObject chunk = doc.object();

    const QJsonValue error = chunk.value(QLatin1String("error"));
    if (!error.isUndefined() && !error.isNull()) {
        const ApiError e = parseApiError(QJsonDocument(chunk).toJson(QJsonDocument::Compact));
        fail(LlmFailure::StreamError, QStringLiteral("LLM stream error after %1 spoken deltas%2").arg(m_stats.contentDeltas).arg(errorSuffix(e)));
        return false;
    }
    const QJsonObject xGroq = chunk.value(QLatin1String("x_groq")).toObject();
    const QJsonValue groqError = xGroq.value(QLatin1String("error"));
    if (!groqError.isUndefined() && !groqError.isNull()) {
        const QString text = groqError.isString() ? groqError.toString()
                                                  : QString::fromUtf8(QJsonDocument(groqError.toObject()).toJson(QJsonDocument::Compact));
        fail(LlmFailure::StreamError, QStringLiteral("Groq stopped the stream after %1 spoken deltas: %2").arg(m_stats.contentDeltas).arg(text));
        return false;
    }

    // Usage: top-level with include_usage (OpenAI, Ollama, llama.cpp, vLLM, Groq),
    // x_groq.usage in Groq's last chunk. Whichever comes, the last one wins.
    for (const QJsonValue &usageValue : {xGroq.value(QLatin1String("usage")), chunk.value(QLatin1String("usage"))}) {
        if (!usageValue.isObject())
            continue;
        const QJsonObject usage = usageValue.toObject();
        if (const int p = jsonInt(usage, "prompt_tokens"); p >= 0)
            m_stats.promptTokens = p;
        if (const int c = jsonInt(usage, "completion_tokens"); c >= 0)
            m_stats.completionTokens = c;
    }

    const QJsonArray choices = chunk.value(QLatin1String("choices")).toArray();
    QJsonObject choice;
    for (const QJsonValue &c : choices) {
        const QJsonObject o = c.toObject();
        if (o.value(QLatin1String("index")).toInt(0) == 0) {
            choice = o;
            break;
        }
    }
    if (choice.isEmpty())
        return true; // usage-only chunk (choices: [])

    const QJsonObject delta = choice.value(QLatin1String("delta")).toObject();
    // Groq and Ollama say "reasoning", llama.cpp and vLLM "reasoning_content".
    const QString reasoning = delta.value(QLatin1String("reasoning")).toString() + delta.value(QLatin1String("reasoning_content")).toString();
    if (!reasoning.isEmpty()) {
        if (m_stats.firstReasoningNs < 0)
            m_stats.firstReasoningNs = monotonicNowNs();
        ++m_stats.reasoningDeltas;
    }
    const QString finishReason = choice.value(QLatin1String("finish_reason")).toString();
    if (!finishReason.isEmpty())
        m_stats.finishReason = finishReason;

    const QJsonValue content = delta.value(QLatin1String("content"));
    if (content.isString() && !content.toString().isEmpty()) {
        if (m_stats.firstContentNs < 0) {
            m_stats.firstContentNs = monotonicNowNs();
            m_firstTokenTimer.stop();
        }
        ++m_stats.contentDeltas;
        const QPointer<OpenAiResponder> self(this);
        const quint64 generation = m_generation;
        Q_EMIT textDelta(content.toString());
        if (!self || generation != m_generation)
            return false;
    }
    return true;
}

void OpenAiResponder::onReplyFinished()
{
    if (!m_reply)
        return;
    const QPointer<OpenAiResponder> self(this);
    const quint64 generation = m_generation;
    if (!checkHeaders() || !self || generation != m_generation || !m_reply)
        return;

    if (!m_headersChecked) {
        fail(LlmFailure::Network, QStringLiteral("cannot reach the LLM server at %1: %2")
                                      .arg(completionsUrl(m_settings.baseUrl).toString(QUrl::RemoveUserInfo), m_reply->errorString()));
        return;
    }
    // Whatever readyRead did not deliver yet.
    if (m_reply->bytesAvailable() > 0) {
        onReadyRead();
        if (!self || generation != m_generation || !m_reply)
            return;
    }
    if (m_stats.httpStatus / 100 != 2) {
        handleHttpError();
        return;
    }
    if (m_jsonBody) {
        handleJsonBody();
        return;
    }
    // End of stream without [DONE]: flush what the parser holds (llama.cpp may
    // end with "data: [DONE]" and no blank line).
    const QNetworkReply::NetworkError networkError = m_reply->error();
    const QString errorString = m_reply->errorString();
    if (!handleEvents(m_parser.finish()))
        return;
    if (m_parser.hasError()) {
        fail(LlmFailure::Malformed, QStringLiteral("unreadable LLM stream: %1").arg(m_parser.errorString()));
        return;
    }
    if (!m_stats.finishReason.isEmpty()) {
        complete(); // EOF after finish_reason is a whole reply, [DONE] or not
        return;
    }
    fail(LlmFailure::ClosedEarly, QStringLiteral("LLM connection closed before the reply finished (after %1 spoken deltas)%2")
                                      .arg(m_stats.contentDeltas)
                                      .arg(networkError == QNetworkReply::NoError ? QString() : QStringLiteral(": ") + errorString));
}

void OpenAiResponder::handleHttpError()
{
    const int status = m_stats.httpStatus;
    const ApiError e = parseApiError(m_errorBody);
    const QString host = completionsUrl(m_settings.baseUrl).host();

    if (status == 429) {
        double retryAfter = m_rateLimit.retryAfterSeconds;
        if (retryAfter < 0)
            retryAfter = retryAfterFromMessage(e.message);
        const qint64 elapsedMs = (monotonicNowNs() - m_stats.requestNs) / 1'000'000;
        const qint64 budgetMs = m_settings.firstTokenDeadlineMs > 0 ? m_settings.firstTokenDeadlineMs - elapsedMs : kMaxRetryWaitMs;
        const qint64 waitMs = retryAfter >= 0 ? qint64(retryAfter * 1000.0 + 0.5) : -1;
        {
            // A slot may cancel or delete us: nothing of this request after that.
            const quint64 generation = m_generation;
            QPointer<OpenAiResponder> self(this);
            Q_EMIT rateLimited(waitMs);
            if (!self || generation != m_generation)
                return;
        }
        if (!m_retried && waitMs >= 0 && waitMs < budgetMs) {
            m_retried = true;
            m_log.info("rate limited by {} (HTTP 429), retrying once in {} ms", host, waitMs);
            abortReply();
            m_stallTimer.stop();
            m_retryTimer.start(int(waitMs));
            return;
        }
        QString why;
        if (m_retried)
            why = QStringLiteral("again after one retry");
        else if (waitMs < 0)
            why = QStringLiteral("and the server gave no retry-after");
        else
            why = QStringLiteral("retry after %1 s does not fit the %2 ms first-token deadline").arg(retryAfter).arg(m_settings.firstTokenDeadlineMs);
        fail(LlmFailure::RateLimited, QStringLiteral("rate limited by %1 (HTTP 429) %2%3").arg(host, why, errorSuffix(e)));
        return;
    }

    const bool modelGone = e.code == QLatin1String("model_not_found") || e.code == QLatin1String("model_decommissioned")
        || (status == 404 && e.message.contains(QLatin1String("model"), Qt::CaseInsensitive));
    if (modelGone) {
        fail(LlmFailure::ModelUnavailable,
             QStringLiteral("LLM model \"%1\" is gone from %2 (HTTP %3%4): set LLM_MODEL (or the tenant's llmModel) to a current model id, "
                            "e.g. openai/gpt-oss-120b%5")
                 .arg(m_settings.model, host)
                 .arg(status)
                 .arg(e.code.isEmpty() ? QString() : QStringLiteral(" ") + e.code, e.message.isEmpty() ? QString() : QStringLiteral(" — ") + e.message));
        return;
    }
    if (status == 401 || status == 403) {
        fail(LlmFailure::Auth, QStringLiteral("LLM API key %1 rejected by %2 (HTTP %3)%4 (GROQ_API_KEY / LLM_API_KEY)")
                                   .arg(maskSecret(m_settings.apiKey), host)
                                   .arg(status)
                                   .arg(errorSuffix(e)));
        return;
    }
    fail(LlmFailure::Http, QStringLiteral("LLM server %1 answered HTTP %2%3").arg(host).arg(status).arg(errorSuffix(e)));
}

void OpenAiResponder::handleJsonBody()
{
    // A server that ignored stream:true sends one chat.completion object.
    const QJsonObject o = QJsonDocument::fromJson(m_errorBody).object();
    const QJsonValue error = o.value(QLatin1String("error"));
    if (!error.isUndefined() && !error.isNull()) {
        fail(LlmFailure::StreamError, QStringLiteral("LLM error%1").arg(errorSuffix(parseApiError(m_errorBody))));
        return;
    }
    const QJsonObject choice = o.value(QLatin1String("choices")).toArray().first().toObject();
    const QString text = choice.value(QLatin1String("message")).toObject().value(QLatin1String("content")).toString();
    m_stats.finishReason = choice.value(QLatin1String("finish_reason")).toString();
    const QJsonObject usage = o.value(QLatin1String("usage")).toObject();
    m_stats.promptTokens = jsonInt(usage, "prompt_tokens");
    m_stats.completionTokens = jsonInt(usage, "completion_tokens");
    if (!text.isEmpty()) {
        m_stats.firstContentNs = monotonicNowNs();
        m_stats.contentDeltas = 1;
        m_firstTokenTimer.stop();
        const QPointer<OpenAiResponder> self(this);
        const quint64 generation = m_generation;
        Q_EMIT textDelta(text);
        if (!self || generation != m_generation)
            return;
    }
    complete();
}

void OpenAiResponder::complete()
{
    m_stats.doneNs = monotonicNowNs();
    if (m_stats.contentDeltas == 0) {
        // For a phone call silence is the worst outcome: say so, and the
        // fallback chain answers instead.
        fail(LlmFailure::EmptyReply, QStringLiteral("LLM model %1 finished (%2) without a spoken token after %3 reasoning deltas%4")
                                         .arg(m_settings.model, m_stats.finishReason.isEmpty() ? QStringLiteral("no finish_reason") : m_stats.finishReason)
                                         .arg(m_stats.reasoningDeltas)
                                         .arg(m_stats.finishReason == QLatin1String("length")
                                                  ? QStringLiteral(": raise maxCompletionTokens or lower reasoningEffort")
                                                  : QString()));
        return;
    }
    qint64 firstTokenNs = m_stats.firstContentNs;
    if (m_stats.firstReasoningNs >= 0 && m_stats.firstReasoningNs < firstTokenNs)
        firstTokenNs = m_stats.firstReasoningNs;
    const int tokens = m_stats.completionTokens >= 0 ? m_stats.completionTokens : m_stats.contentDeltas + m_stats.reasoningDeltas;
    const double seconds = double(m_stats.doneNs - firstTokenNs) / 1e9;
    m_stats.tokensPerSecond = seconds > 0 ? tokens / seconds : 0;

    stopTimers();
    detachReply();
    ++m_generation;
    m_active = false;
    m_log.info("reply done: first spoken token {:.0f} ms, {} tokens at {:.0f} tok/s, {} prompt tokens, finish {}",
               m_stats.timeToFirstContentMs(), tokens, m_stats.tokensPerSecond, m_stats.promptTokens, m_stats.finishReason);
    Q_EMIT finished();
}

void OpenAiResponder::fail(LlmFailure failure, const QString &reason)
{
    if (m_stats.doneNs < 0)
        m_stats.doneNs = monotonicNowNs();
    m_lastFailure = failure;
    stopTimers();
    abortReply();
    ++m_generation;
    m_active = false;
    m_log.warn("{} ({})", reason, llmFailureName(failure));
    Q_EMIT failed(reason);
}

// --- OpenAiResponderFactory ------------------------------------------------

OpenAiResponderFactory::OpenAiResponderFactory(OpenAiSettings settings, QString name)
    : m_settings(std::move(settings))
    , m_name(std::move(name))
{
}

OpenAiSettings OpenAiResponderFactory::settingsFor(const Tenant &tenant) const
{
    OpenAiSettings s = m_settings;
    if (!tenant.llmModel.isEmpty() && tenant.llmModel != s.model) {
        // Follow the model's default effort unless it was set on purpose: Groq
        // rejects reasoning_effort for models that do not reason.
        if (s.reasoningEffort == OpenAiSettings::defaultReasoningEffortFor(s.model))
            s.reasoningEffort = OpenAiSettings::defaultReasoningEffortFor(tenant.llmModel);
        s.model = tenant.llmModel;
    }
    if (tenant.llmFirstTokenDeadlineMs > 0)
        s.firstTokenDeadlineMs = tenant.llmFirstTokenDeadlineMs;
    return s;
}

std::unique_ptr<OpenAiResponder> OpenAiResponderFactory::createOpenAiResponder(const Tenant &tenant)
{
    auto responder = std::make_unique<OpenAiResponder>(settingsFor(tenant));
    responder->bindLog(QString(), tenant.id);
    if (m_rateLimitObserver) {
        QObject::connect(responder.get(), &OpenAiResponder::rateLimitObserved, responder.get(),
                         [observer = m_rateLimitObserver](const RateLimitInfo &info) { observer(info); });
    }
    return responder;
}

std::unique_ptr<Responder> OpenAiResponderFactory::create(const Tenant &tenant)
{
    return createOpenAiResponder(tenant);
}

void OpenAiResponderFactory::setRateLimitObserver(std::function<void(const RateLimitInfo &)> observer)
{
    m_rateLimitObserver = std::move(observer);
}

ProviderFailure OpenAiResponder::providerFailure() const
{
    ProviderFailure out;
    out.httpStatus = m_stats.httpStatus;
    switch (m_lastFailure) {
    case LlmFailure::Configuration:
    case LlmFailure::Auth:
    case LlmFailure::ModelUnavailable: out.kind = FailureKind::Unauthorized; break;
    case LlmFailure::Network: out.kind = FailureKind::Connect; break;
    case LlmFailure::RateLimited:
        out.kind = FailureKind::RateLimited;
        if (m_rateLimit.retryAfterSeconds > 0)
            out.retryAfter = std::chrono::milliseconds(qint64(m_rateLimit.retryAfterSeconds * 1000.0));
        break;
    case LlmFailure::Http: out.kind = failureKindForHttpStatus(m_stats.httpStatus); break;
    case LlmFailure::StreamError: out.kind = FailureKind::ServerError; break;
    case LlmFailure::FirstTokenTimeout:
    case LlmFailure::Stall: out.kind = FailureKind::Timeout; break;
    case LlmFailure::None:
    case LlmFailure::Malformed:
    case LlmFailure::ClosedEarly:
    case LlmFailure::EmptyReply: out.kind = FailureKind::Protocol; break;
    }
    return out;
}

} // namespace apex
