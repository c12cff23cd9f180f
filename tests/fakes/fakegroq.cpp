#include "fakegroq.h"

#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace apex::test {

namespace {

// Largest request we accept: a system prompt and 8 turns are a few KB.
constexpr qsizetype kMaxRequestBytes = 1024 * 1024;
constexpr qint64 kCreated = 1769093744;

QByteArray jsonString(const QString &s)
{
    const QByteArray array = QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2); // strip the brackets: "…"
}

QByteArray chunked(const QByteArray &bytes)
{
    return QByteArray::number(bytes.size(), 16) + "\r\n" + bytes + "\r\n";
}

int roughTokenCount(const QString &text)
{
    return int(text.split(QLatin1Char(' '), Qt::SkipEmptyParts).size());
}

} // namespace

QByteArray FakeGroqRequest::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

bool FakeGroqRequest::includeUsage() const
{
    return json.value(QLatin1String("stream_options")).toObject().value(QLatin1String("include_usage")).toBool();
}

struct FakeGroq::Connection : QObject
{
    struct Frame
    {
        enum class Kind { Data, Stall, Close, End };
        qint64 atMs = 0;
        Kind kind = Kind::Data;
        QByteArray bytes; // one SSE event, sent as one HTTP chunk
    };

    explicit Connection(QTcpSocket *s) : QObject(s), socket(s)
    {
        timer.setSingleShot(true);
        timer.setTimerType(Qt::PreciseTimer);
    }

    QTcpSocket *socket;
    QByteArray in;
    bool requestSeen = false;
    bool streaming = false; // a response is on its way; a client close now is an abort
    QList<Frame> frames;
    qsizetype next = 0;
    QElapsedTimer clock;
    QTimer timer;
    int requestIndex = -1; // into requests(), for eventSent
};

FakeGroq::FakeGroq(QObject *parent)
    : QObject(parent)
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &FakeGroq::onNewConnection);
}

FakeGroq::~FakeGroq()
{
    // Sockets are the server's children: silence them first, so their
    // disconnected() during teardown reaches nothing of ours.
    for (QTcpSocket *socket : m_server->findChildren<QTcpSocket *>())
        socket->disconnect();
    delete m_server;
}

bool FakeGroq::start(quint16 port)
{
    return m_server->listen(QHostAddress::LocalHost, port);
}

quint16 FakeGroq::port() const
{
    return m_server->serverPort();
}

QString FakeGroq::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1/openai/v1").arg(port());
}

QStringList FakeGroq::tokenize(const QString &text)
{
    // Words carry their leading space, punctuation stands alone: the shape of
    // BPE tokens closely enough for a splitter downstream.
    static const QString punctuation = QStringLiteral(",.!?;:\u0964");
    QStringList tokens;
    QString current;
    for (const QChar c : text) {
        const bool startsToken = (c.isSpace() && !current.isEmpty() && !current.back().isSpace()) || punctuation.contains(c)
            || (!current.isEmpty() && punctuation.contains(current.back()) && !c.isSpace());
        if (startsToken && !current.isEmpty()) {
            tokens.append(current);
            current.clear();
        }
        current += c;
    }
    if (!current.isEmpty())
        tokens.append(current);
    return tokens;
}

void FakeGroq::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        // Real servers flush each SSE event at once; Nagle would hold small ones back.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto *c = new Connection(socket);
        ++m_openConnections;
        connect(socket, &QTcpSocket::readyRead, c, [this, c] { onReadyRead(c); });
        connect(&c->timer, &QTimer::timeout, c, [this, c] { sendNext(c); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket, c] {
            --m_openConnections;
            c->timer.stop();
            if (c->streaming) {
                c->streaming = false;
                ++m_clientAborts;
                Q_EMIT clientAborted();
            }
            socket->deleteLater();
        });
    }
}

void FakeGroq::onReadyRead(Connection *c)
{
    c->in += c->socket->readAll();
    if (c->requestSeen)
        return; // one request per connection: we always answer "Connection: close"
    if (c->in.size() > kMaxRequestBytes) {
        c->socket->abort();
        return;
    }
    const qsizetype headerEnd = c->in.indexOf("\r\n\r\n");
    if (headerEnd < 0)
        return;

    FakeGroqRequest request;
    const QList<QByteArray> lines = c->in.left(headerEnd).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    request.method = requestLine.value(0);
    request.path = requestLine.value(1);
    qsizetype contentLength = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = line.left(colon).trimmed();
        const QByteArray value = line.mid(colon + 1).trimmed();
        request.headers.append({name, value});
        if (name.compare("content-length", Qt::CaseInsensitive) == 0)
            contentLength = value.toLongLong();
    }
    const qsizetype bodyStart = headerEnd + 4;
    if (c->in.size() - bodyStart < contentLength)
        return; // the rest of the body is still on its way
    request.body = c->in.mid(bodyStart, contentLength);
    request.json = QJsonDocument::fromJson(request.body).object();
    c->requestSeen = true;

    m_requests.append(request);
    c->requestIndex = int(m_requests.size() - 1);
    Q_EMIT requestReceived(int(m_requests.size() - 1));
    respond(c, request);
}

QByteArray FakeGroq::rateLimitHeaders() const
{
    const qint64 used = qint64(m_requests.size());
    return "x-ratelimit-limit-requests: 1000\r\n"
           "x-ratelimit-limit-tokens: 8000\r\n"
           "x-ratelimit-remaining-requests: " + QByteArray::number(qMax<qint64>(0, 1000 - used)) + "\r\n"
           "x-ratelimit-remaining-tokens: " + QByteArray::number(qMax<qint64>(0, 8000 - m_tokensUsed)) + "\r\n"
           "x-ratelimit-reset-requests: 2m59.56s\r\n"
           "x-ratelimit-reset-tokens: 7.66s\r\n";
}

void FakeGroq::sendError(Connection *c, int status, const QByteArray &reason, const QByteArray &json, const QByteArray &extraHeaders)
{
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: " + QByteArray::number(json.size()) + "\r\n"
                          "Connection: close\r\n" + rateLimitHeaders() + extraHeaders + "\r\n" + json;
    c->socket->write(response);
    c->socket->disconnectFromHost();
}

void FakeGroq::respond(Connection *c, const FakeGroqRequest &request)
{
    const Script &s = m_script;
    if (request.method != "POST" || !request.path.endsWith("/chat/completions")) {
        sendError(c, 404, "Not Found",
                  R"({"error":{"message":"Unknown request URL: )" + request.method + ' ' + request.path
                      + R"(. Please check the URL for typos, or see the docs at https://console.groq.com/docs/","type":"invalid_request_error","code":"unknown_url"}})",
                  {});
        return;
    }
    const QByteArray model = request.model().toUtf8();
    const int requestIndex = int(m_requests.size()) - 1;
    const bool errorFault = s.fault == Fault::RateLimited || s.fault == Fault::ServerError || s.fault == Fault::ModelDecommissioned
        || s.fault == Fault::Unauthorized;
    // Without faultWhen, error faults hit the first faultTimes requests and
    // stream faults every request (the behaviour suites already rely on).
    const bool faultHere = s.faultWhen ? s.faultWhen(requestIndex) : (!errorFault || m_faultsServed < s.faultTimes);
    if (s.fault == Fault::StallBeforeHeaders && faultHere)
        return; // request read, nothing ever sent: the client's own deadline must act
    if (errorFault && faultHere) {
        ++m_faultsServed;
        if (s.fault == Fault::Unauthorized) {
            sendError(c, 401, "Unauthorized", R"({"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}})", {});
        } else if (s.fault == Fault::RateLimited) {
            const QByteArray message = "Rate limit reached for model `" + model
                + "` in organization `org_01fakefakefakefakefakefake` service tier `on_demand` on tokens per minute (TPM): "
                  "Limit 8000, Used 7990, Requested 300. Please try again in " + s.tryAgainIn.toUtf8()
                + ". Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing";
            sendError(c, 429, "Too Many Requests",
                      R"({"error":{"message":)" + jsonString(QString::fromUtf8(message)) + R"(,"type":"tokens","code":"rate_limit_exceeded"}})",
                      s.retryAfter.isEmpty() ? QByteArray() : "retry-after: " + s.retryAfter + "\r\n");
        } else if (s.fault == Fault::ServerError) {
            sendError(c, 500, "Internal Server Error", R"({"error":{"message":"Internal Server Error","type":"internal_server_error"}})", {});
        } else {
            sendError(c, 404, "Not Found",
                      R"({"error":{"message":"The model `)" + model
                          + R"(` has been decommissioned and is no longer supported. Please refer to https://console.groq.com/docs/deprecations for a recommendation on which model to use instead.","type":"invalid_request_error","code":"model_decommissioned"}})",
                      {});
        }
        return;
    }

    const int index = int(m_requests.size());
    const QString replyText = s.replyFor ? s.replyFor(request) : s.reply;
    const QStringList reasoningTokens = tokenize(s.reasoning);
    const QStringList contentTokens = tokenize(replyText);
    int promptTokens = 0;
    for (const QJsonValue &m : request.messages())
        promptTokens += 4 + roughTokenCount(m.toObject().value(QLatin1String("content")).toString());
    const int completionTokens = int(reasoningTokens.size() + contentTokens.size());
    m_tokensUsed += promptTokens + completionTokens;
    const bool includeUsage = request.includeUsage();

    const QByteArray le = s.lineEnding;
    auto event = [&le](const QByteArray &payload) { return "data: " + payload + le + le; };
    const QByteArray id = "chatcmpl-fake" + QByteArray::number(index);
    const QByteArray reqId = "req_01fake" + QByteArray::number(index);
    const QByteArray created = QByteArray::number(kCreated + index);
    const QByteArray jsonModel = jsonString(request.model());
    const QByteArray usage = R"({"prompt_tokens":)" + QByteArray::number(promptTokens) + R"(,"completion_tokens":)"
        + QByteArray::number(completionTokens) + R"(,"total_tokens":)" + QByteArray::number(promptTokens + completionTokens) + "}";
    const QByteArray groqUsage = R"({"queue_time":0.09,"prompt_tokens":)" + QByteArray::number(promptTokens)
        + R"(,"prompt_time":0.003,"completion_tokens":)" + QByteArray::number(completionTokens)
        + R"(,"completion_time":0.027,"total_tokens":)" + QByteArray::number(promptTokens + completionTokens) + R"(,"total_time":0.03})";
    const QByteArray timings = R"({"prompt_n":)" + QByteArray::number(promptTokens) + R"(,"prompt_ms":12.5,"predicted_n":)"
        + QByteArray::number(completionTokens) + R"(,"predicted_ms":80.0,"predicted_per_second":)"
        + QByteArray::number(s.tokensPerSecond > 0 ? s.tokensPerSecond : 250.0) + "}";

    // Head and tail of a chunk in each server's field order.
    QByteArray head;
    QByteArray tail;
    switch (s.variant) {
    case Variant::Groq:
        head = R"({"id":")" + id + R"(","object":"chat.completion.chunk","created":)" + created + R"(,"model":)" + jsonModel
            + R"(,"system_fingerprint":"fp_fake0001",)";
        break;
    case Variant::OpenAi:
        head = R"({"id":")" + id + R"(","object":"chat.completion.chunk","created":)" + created + R"(,"model":)" + jsonModel
            + R"(,"service_tier":"default","system_fingerprint":"fp_fake0001",)";
        if (includeUsage)
            tail = R"(,"usage":null)";
        break;
    case Variant::LlamaCpp:
        head = "{";
        tail = R"(,"created":)" + created + R"(,"id":")" + id + R"(","model":)" + jsonModel
            + R"(,"system_fingerprint":"b5000-fake","object":"chat.completion.chunk")";
        break;
    case Variant::Ollama:
        head = R"({"id":")" + id + R"(","object":"chat.completion.chunk","created":)" + created + R"(,"model":)" + jsonModel
            + R"(,"system_fingerprint":"fp_ollama",)";
        break;
    }
    auto choice = [&s](const QByteArray &delta, const QByteArray &finish) -> QByteArray {
        if (s.variant == Variant::LlamaCpp)
            return R"("choices":[{"finish_reason":)" + finish + R"(,"index":0,"delta":)" + delta + "}]";
        if (s.variant == Variant::Ollama)
            return R"("choices":[{"index":0,"delta":)" + delta + R"(,"finish_reason":)" + finish + "}]";
        return R"("choices":[{"index":0,"delta":)" + delta + R"(,"logprobs":null,"finish_reason":)" + finish + "}]";
    };
    auto deltaChunk = [&](const QByteArray &delta, const QByteArray &finish = "null", const QByteArray &extra = {}) {
        return event(head + choice(delta, finish) + extra + tail + "}");
    };

    using Frame = Connection::Frame;
    c->frames.clear();
    c->next = 0;
    auto add = [c](qint64 atMs, Frame::Kind kind, QByteArray bytes = {}) { c->frames.append(Frame{atMs, kind, std::move(bytes)}); };

    // First chunk: role, at once with the headers.
    switch (s.variant) {
    case Variant::Groq: {
        const QByteArray groqHead = head + R"("x_groq":{"id":")" + reqId + R"("},)";
        add(0, Frame::Kind::Data, event(groqHead + choice(R"({"role":"assistant","content":""})", "null") + "}"));
        break;
    }
    case Variant::OpenAi:
        add(0, Frame::Kind::Data, deltaChunk(R"({"role":"assistant","content":"","refusal":null})"));
        break;
    case Variant::LlamaCpp:
        add(0, Frame::Kind::Data, deltaChunk(R"({"role":"assistant","content":null})"));
        break;
    case Variant::Ollama:
        break; // Ollama repeats the role in every delta instead
    }

    const double intervalMs = s.tokensPerSecond > 0 ? 1000.0 / s.tokensPerSecond : 0;
    int tokenIndex = 0;
    auto at = [&] { return qint64(s.timeToFirstTokenMs + intervalMs * tokenIndex++); };
    const QByteArray reasoningField = s.variant == Variant::LlamaCpp ? "reasoning_content" : "reasoning";
    for (const QString &t : reasoningTokens) {
        const QByteArray delta = s.variant == Variant::Ollama
            ? R"({"role":"assistant","content":"",")" + reasoningField + R"(":)" + jsonString(t) + "}"
            : R"({")" + reasoningField + R"(":)" + jsonString(t) + "}";
        add(at(), Frame::Kind::Data, deltaChunk(delta));
    }
    // A stream fault this request is spared (faultWhen said no) streams whole.
    const Fault streamFault = faultHere ? s.fault : Fault::None;
    int contentSent = 0;
    for (const QString &t : contentTokens) {
        const QByteArray delta = s.variant == Variant::Ollama ? R"({"role":"assistant","content":)" + jsonString(t) + "}"
                                                              : R"({"content":)" + jsonString(t) + "}";
        add(at(), Frame::Kind::Data, deltaChunk(delta));
        ++contentSent;
        if (contentSent == s.faultAfterTokens && streamFault == Fault::StallAfterTokens) {
            add(at(), Frame::Kind::Stall);
            break;
        }
        if (contentSent == s.faultAfterTokens && streamFault == Fault::CloseAfterTokens) {
            add(at(), Frame::Kind::Close);
            break;
        }
        if (contentSent == s.faultAfterTokens && streamFault == Fault::ErrorAfterTokens) {
            const qint64 when = at();
            if (s.variant == Variant::Groq) {
                add(when, Frame::Kind::Data,
                    event(head + choice("{}", "null") + R"(,"x_groq":{"id":")" + reqId
                          + R"(","error":"stream stopped: the model hit an internal error, please retry"})" + "}"));
            } else {
                add(when, Frame::Kind::Data,
                    event(R"({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","code":null}})"));
            }
            add(when, Frame::Kind::End);
            break;
        }
    }

    const bool faultCutShort = streamFault == Fault::StallAfterTokens || streamFault == Fault::CloseAfterTokens || streamFault == Fault::ErrorAfterTokens;
    if (!faultCutShort || contentSent < s.faultAfterTokens) {
        const qint64 when = qint64(s.timeToFirstTokenMs + intervalMs * qMax(0, tokenIndex - 1));
        switch (s.variant) {
        case Variant::Groq:
            add(when, Frame::Kind::Data,
                deltaChunk("{}", R"("stop")",
                           R"(,"x_groq":{"id":")" + reqId + R"(","usage":)" + groqUsage + R"(,"seed":1234567})"
                               + (includeUsage ? R"(,"usage":)" + usage : QByteArray())));
            add(when, Frame::Kind::Data, event("[DONE]"));
            break;
        case Variant::OpenAi:
            add(when, Frame::Kind::Data, deltaChunk("{}", R"("stop")"));
            if (includeUsage) {
                add(when, Frame::Kind::Data,
                    event(head + R"("choices":[],"usage":)" + usage.chopped(1)
                          + R"(,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})"
                          + "}"));
            }
            add(when, Frame::Kind::Data, event("[DONE]"));
            break;
        case Variant::LlamaCpp:
            add(when, Frame::Kind::Data, deltaChunk("{}", R"("stop")", R"(,"timings":)" + timings));
            if (includeUsage)
                add(when, Frame::Kind::Data, event(R"({"choices":[])" + tail + R"(,"usage":)" + usage + R"(,"timings":)" + timings + "}"));
            add(when, Frame::Kind::Data, "data: [DONE]" + le); // no blank line after it
            break;
        case Variant::Ollama:
            add(when, Frame::Kind::Data, deltaChunk(R"({"role":"assistant","content":""})", R"("stop")"));
            if (includeUsage)
                add(when, Frame::Kind::Data, event(head + R"("choices":[],"usage":)" + usage + "}"));
            add(when, Frame::Kind::Data, event("[DONE]"));
            break;
        }
        add(when, Frame::Kind::End);
    }

    c->socket->write("HTTP/1.1 200 OK\r\n"
                     "Content-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\n"
                     "Transfer-Encoding: chunked\r\n"
                     "Connection: close\r\n"
                     + rateLimitHeaders() + "\r\n");
    c->streaming = true;
    c->clock.start();
    sendNext(c);
}

void FakeGroq::sendNext(Connection *c)
{
    using Kind = Connection::Frame::Kind;
    while (c->next < c->frames.size()) {
        const Connection::Frame &frame = c->frames[c->next];
        const qint64 waitMs = frame.atMs - c->clock.elapsed();
        if (waitMs > 0) {
            c->timer.start(int(waitMs));
            return;
        }
        ++c->next;
        switch (frame.kind) {
        case Kind::Data:
            c->socket->write(chunked(frame.bytes));
            c->socket->flush();
            Q_EMIT eventSent(c->requestIndex, frame.bytes);
            break;
        case Kind::Stall:
            return; // keep the socket open and silent until the client gives up
        case Kind::Close:
            c->streaming = false; // our close, not the client's
            c->socket->disconnectFromHost();
            return;
        case Kind::End:
            c->socket->write("0\r\n\r\n");
            c->streaming = false;
            c->socket->disconnectFromHost();
            return;
        }
    }
}

} // namespace apex::test
