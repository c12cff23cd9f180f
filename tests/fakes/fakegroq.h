#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

#include <functional>

class QTcpServer;
class QTcpSocket;

namespace apex::test {

// One HTTP request as the fake saw it.
struct FakeGroqRequest
{
    QByteArray method;
    QByteArray path;
    QList<QPair<QByteArray, QByteArray>> headers; // as sent, in order
    QByteArray body;
    QJsonObject json; // the body, parsed (empty if it was not a JSON object)

    QByteArray header(QByteArrayView name) const; // case-insensitive; empty if absent
    QString model() const { return json.value(QLatin1String("model")).toString(); }
    QJsonArray messages() const { return json.value(QLatin1String("messages")).toArray(); }
    bool stream() const { return json.value(QLatin1String("stream")).toBool(); }
    bool includeUsage() const;
};

// Groq's chat completions endpoint (and its OpenAI, llama.cpp and Ollama
// cousins) as a real HTTP/1.1 server on 127.0.0.1, speaking the SSE stream of
// protocols.md §4 byte for byte, with the faults a phone agent must survive.
// A QTcpServer rather than QHttpServer: Qt 6.4's server cannot stream a chunked
// body, stall it or cut it mid-way. Every response says "Connection: close", so
// each request is one connection and a client abort is visible as such.
class FakeGroq : public QObject
{
    Q_OBJECT
public:
    enum class Variant {
        Groq,     // role chunk, content, finish chunk with x_groq.usage (+ usage), [DONE]
        OpenAi,   // usage in an extra last chunk with "choices": []
        LlamaCpp, // first delta content:null, timings, usage after finish, [DONE] without blank line
        Ollama,   // role in every delta, usage chunk with "choices": []
    };
    enum class Fault {
        None,
        RateLimited,         // 429, retry-after (unless empty), Groq's error JSON; for the first faultTimes requests
        ServerError,         // 500 for the first faultTimes requests
        ModelDecommissioned, // 404 model_decommissioned for the first faultTimes requests
        StallAfterTokens,    // stop sending after faultAfterTokens content tokens, keep the socket open
        CloseAfterTokens,    // close the connection after faultAfterTokens content tokens, no terminator
        ErrorAfterTokens,    // x_groq.error (Groq) or a top-level error object (others) after faultAfterTokens
        Unauthorized,        // 401 invalid_api_key, Groq's error JSON; for the first faultTimes requests
        StallBeforeHeaders,  // read the request and never answer (the socket stays open)
    };
    Q_ENUM(Variant)
    Q_ENUM(Fault)

    struct Script
    {
        QString reply = QStringLiteral("Hello! How can I help you today?");
        std::function<QString(const FakeGroqRequest &)> replyFor; // wins over reply when set
        QString reasoning;          // streamed as reasoning deltas before the content (gpt-oss shape)
        int timeToFirstTokenMs = 0; // headers at once, first delta (reasoning or content) after this
        double tokensPerSecond = 0; // 0: every token at once
        Variant variant = Variant::Groq;
        QByteArray lineEnding = "\n"; // "\r\n" or "\r" to exercise the parser's other endings
        Fault fault = Fault::None;
        int faultTimes = 1;
        // Set: decides per request (0-based index over the fake's life) whether
        // the fault applies, for any fault kind, instead of faultTimes; e.g. a
        // deterministic 30 % of requests.
        std::function<bool(int requestIndex)> faultWhen;
        int faultAfterTokens = 2;
        QByteArray retryAfter = "2";                 // 429 header value; empty: not sent
        QString tryAgainIn = QStringLiteral("1.5s"); // the 429 message's "Please try again in …"
    };

    explicit FakeGroq(QObject *parent = nullptr);
    ~FakeGroq() override;

    bool start(quint16 port = 0);
    quint16 port() const;
    QString baseUrl() const; // http://127.0.0.1:<port>/openai/v1

    Script &script() { return m_script; }
    // A new script also restarts the count of injected error responses.
    void setScript(Script script)
    {
        m_script = std::move(script);
        m_faultsServed = 0;
    }

    const QList<FakeGroqRequest> &requests() const { return m_requests; }
    int requestCount() const { return int(m_requests.size()); }
    // Connections the client closed while a response was still streaming.
    int clientAborts() const { return m_clientAborts; }
    int openConnections() const { return m_openConnections; }

    // How the fake splits a reply into streamed tokens; the pieces concatenate back to it.
    static QStringList tokenize(const QString &text);

Q_SIGNALS:
    void requestReceived(int index);
    void clientAborted();
    // An SSE event (one HTTP chunk) of request index's stream just written and flushed.
    void eventSent(int index, const QByteArray &event);

private:
    struct Connection;
    void onNewConnection();
    void onReadyRead(Connection *c);
    void respond(Connection *c, const FakeGroqRequest &request);
    void sendError(Connection *c, int status, const QByteArray &reason, const QByteArray &json, const QByteArray &extraHeaders);
    void sendNext(Connection *c);
    QByteArray rateLimitHeaders() const;

    QTcpServer *m_server = nullptr;
    Script m_script;
    QList<FakeGroqRequest> m_requests;
    int m_faultsServed = 0;
    int m_clientAborts = 0;
    int m_openConnections = 0;
    qint64 m_tokensUsed = 0;
};

} // namespace apex::test
