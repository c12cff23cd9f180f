#pragma once

#include "llm/openai/openaisettings.h"
#include "llm/responder.h"
#include "llm/openai/sseparser.h"
#include "observability/logging.h"

#include <QByteArray>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace apex {

// Streams a reply from an OpenAI-compatible chat completions server (Groq,
// OpenAI, Ollama, llama.cpp, vLLM). One per call, living on the call's thread;
// requests go through the thread's HttpClientPool for "llm", which keeps
// connections alive across calls and grows past Qt's six per host. Call
// warmUp() at call start to hide the TCP/TLS handshake behind the greeting.
//
// Contract beyond Responder's: textDelta carries choices[0].delta.content only,
// never reasoning; nothing is emitted from inside respond(); after cancel(), or
// once finished/failed was emitted, no signal of that request follows; a slot may
// call respond()/cancel() or delete the responder from any of its signals.
class OpenAiResponder : public Responder
{
    Q_OBJECT
public:
    explicit OpenAiResponder(OpenAiSettings settings, QObject *parent = nullptr);
    ~OpenAiResponder() override;

    void respond(const ResponderRequest &request) override;
    void cancel() override;

    // Opens the connection now, so the first respond() does not pay for it.
    void warmUp();
    void prepareCall(const QString &callId, const QString &tenantId) override;
    // Every log line of this responder carries the call id and tenant.
    void bindLog(const QString &callId, const QString &tenantId);

    const OpenAiSettings &settings() const { return m_settings; }
    // The last request's timings and usage; final once finished or failed was emitted.
    const LlmTurnStats &lastStats() const { return m_stats; }
    ResponderUsage lastUsage() const override
    {
        return ResponderUsage{m_stats.promptTokens, m_stats.completionTokens, m_stats.tokensPerSecond};
    }
    LlmFailure lastFailure() const { return m_lastFailure; }
    ProviderFailure providerFailure() const override;

    // The chat completions body for a request (protocols.md §4).
    static QByteArray requestBody(const OpenAiSettings &settings, const ResponderRequest &request);

Q_SIGNALS:
    // Once per HTTP response that carried x-ratelimit-* or retry-after headers,
    // before that response's text; for the AIMD limiter.
    void rateLimitObserved(const apex::RateLimitInfo &info);

private:
    void sendRequest();
    void onMetaDataChanged();
    void onReadyRead();
    void onReplyFinished();
    bool checkHeaders();                 // false: the request ended meanwhile
    bool handleEvents(const QList<SseEvent> &events);
    bool handleEvent(const SseEvent &event);
    void handleHttpError();
    void handleJsonBody();
    void complete();
    void fail(LlmFailure failure, const QString &reason);
    void stopTimers();
    void abortReply();
    void detachReply();
    void resetAttempt();

    OpenAiSettings m_settings;
    log::CallLogger m_log;
    QPointer<QNetworkReply> m_reply;
    SseParser m_parser;
    QTimer m_firstTokenTimer;
    QTimer m_stallTimer;
    QTimer m_retryTimer;
    QByteArray m_body;       // kept for the 429 retry
    QByteArray m_errorBody;  // non-2xx (and non-SSE 200) bodies, bounded
    RateLimitInfo m_rateLimit;
    LlmTurnStats m_stats;
    LlmFailure m_lastFailure = LlmFailure::None;
    quint64 m_generation = 0; // bumped by respond(), cancel(), finishing and failing
    bool m_active = false;
    bool m_headersChecked = false;
    bool m_jsonBody = false; // 200 with application/json: a server that ignored stream:true
    bool m_retried = false;
};

// Registered as "groq" (what tenants pin and chooseProviders() returns) but
// serves any OpenAI-compatible server. A tenant's llmModel overrides the model.
// create() may be called from any thread; the responder lives on that thread.
class OpenAiResponderFactory : public ResponderFactory
{
public:
    explicit OpenAiResponderFactory(OpenAiSettings settings, QString name = QStringLiteral("groq"));

    QString name() const override { return m_name; }
    std::unique_ptr<Responder> create(const Tenant &tenant) override;
    std::unique_ptr<OpenAiResponder> createOpenAiResponder(const Tenant &tenant);

    // The settings a tenant's calls get.
    OpenAiSettings settingsFor(const Tenant &tenant) const;
    const OpenAiSettings &settings() const { return m_settings; }

    // Called with every RateLimitInfo of every responder created afterwards, on
    // that responder's thread: the observer must be thread-safe. Set it before
    // the first create().
    void setRateLimitObserver(std::function<void(const RateLimitInfo &)> observer);

private:
    OpenAiSettings m_settings;
    QString m_name;
    std::function<void(const RateLimitInfo &)> m_rateLimitObserver;
};

} // namespace apex
