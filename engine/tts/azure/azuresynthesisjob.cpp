#include "tts/azure/azuresynthesisjob.h"

#include "observability/clock.h"
#include "observability/logging.h"

#include <QNetworkReply>

namespace apex {

namespace {

constexpr qsizetype kMaxErrorBodyBytes = 2048;
constexpr qsizetype kMaxErrorExcerptChars = 200;

// Azure's error bodies are short text or JSON; one line of it helps an operator,
// but it is still remote input going into a log line.
QString excerpt(const QByteArray &body)
{
    QString text = QString::fromUtf8(body).simplified();
    text.removeIf([](QChar c) { return !c.isPrint(); });
    if (text.size() > kMaxErrorExcerptChars)
        text = text.left(kMaxErrorExcerptChars) + QStringLiteral("…");
    return text;
}

} // namespace

AzureSynthesisJob::AzureSynthesisJob(const QString &outputFormat, int requestTimeoutMs, QObject *parent)
    : SynthesisJob(parent)
    , m_decoder(outputFormat)
    , m_requestTimeoutMs(requestTimeoutMs)
{
    m_idleTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, &AzureSynthesisJob::onTimeout);
}

AzureSynthesisJob::~AzureSynthesisJob()
{
    releaseReply();
}

void AzureSynthesisJob::start(QNetworkReply *reply)
{
    connect(reply, &QNetworkReply::requestSent, this, [this] { Q_EMIT requestSent(monotonicNowNs()); });
    m_reply = reply;
    m_clock.start();
    connect(reply, &QNetworkReply::metaDataChanged, this, &AzureSynthesisJob::onMetaData);
    connect(reply, &QNetworkReply::readyRead, this, &AzureSynthesisJob::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &AzureSynthesisJob::onReplyFinished);
    if (m_requestTimeoutMs > 0)
        m_idleTimer.start(m_requestTimeoutMs);
}

void AzureSynthesisJob::finishEmpty()
{
    QMetaObject::invokeMethod(this, [this] {
        if (!m_done)
            complete();
    }, Qt::QueuedConnection);
}

void AzureSynthesisJob::failLater(Failure failure, const QString &reason)
{
    QMetaObject::invokeMethod(this, [this, failure, reason] { fail(failure, reason); }, Qt::QueuedConnection);
}

void AzureSynthesisJob::cancel()
{
    if (m_done)
        return;
    m_done = true;
    m_idleTimer.stop();
    releaseReply();
}

void AzureSynthesisJob::onMetaData()
{
    if (m_done || !m_reply)
        return;
    m_httpStatus = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (m_requestTimeoutMs > 0)
        m_idleTimer.start(m_requestTimeoutMs);
}

void AzureSynthesisJob::onReadyRead()
{
    if (m_done || !m_reply)
        return;
    if (m_requestTimeoutMs > 0)
        m_idleTimer.start(m_requestTimeoutMs);
    if (m_httpStatus == 0)
        m_httpStatus = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray bytes = m_reply->readAll();
    m_bodyBytes += bytes.size();
    if (m_httpStatus != 200) {
        m_errorBody += bytes.left(kMaxErrorBodyBytes - m_errorBody.size());
        return;
    }
    const QByteArray mulaw = m_decoder.feed(bytes);
    if (m_decoder.hasError()) {
        fail(Failure::Decode, QStringLiteral("Azure TTS audio undecodable: %1").arg(m_decoder.errorString()));
        return;
    }
    emitAudio(mulaw, Flush::WholeFrames);
}

void AzureSynthesisJob::onReplyFinished()
{
    if (m_done || !m_reply)
        return;
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 0)
        m_httpStatus = status;
    if (m_httpStatus != 0 && m_httpStatus != 200) {
        m_errorBody += m_reply->readAll().left(kMaxErrorBodyBytes - m_errorBody.size());
        Failure failure = Failure::HttpError;
        switch (m_httpStatus) {
        case 400: failure = Failure::BadRequest; break;
        case 401:
        case 403: failure = Failure::Unauthorized; break;
        case 415: failure = Failure::UnsupportedMediaType; break;
        case 429: failure = Failure::RateLimited; break;
        default: failure = m_httpStatus >= 500 ? Failure::ServerError : Failure::HttpError;
        }
        fail(failure, httpFailureReason(m_httpStatus));
        return;
    }
    if (m_reply->error() != QNetworkReply::NoError) {
        if (m_httpStatus == 200)
            fail(Failure::Truncated, QStringLiteral("Azure TTS connection lost mid-audio after %1 bytes: %2")
                                         .arg(m_bodyBytes).arg(m_reply->errorString()));
        else
            fail(Failure::Network, QStringLiteral("Azure TTS network error: %1").arg(m_reply->errorString()));
        return;
    }
    // Anything readyRead has not delivered yet, then the decoder's tail.
    const QByteArray rest = m_reply->readAll();
    m_bodyBytes += rest.size();
    QByteArray mulaw = m_decoder.feed(rest);
    mulaw += m_decoder.finish();
    if (m_decoder.hasError()) {
        fail(Failure::Decode, QStringLiteral("Azure TTS audio undecodable: %1").arg(m_decoder.errorString()));
        return;
    }
    if (!emitAudio(mulaw, Flush::Everything))
        return;
    if (m_audioBytes == 0) {
        // Silence is the worst outcome: an empty 200 goes to the fallback.
        fail(Failure::Decode, QStringLiteral("Azure TTS returned no audio (HTTP 200, %1 body bytes)").arg(m_bodyBytes));
        return;
    }
    complete();
}

void AzureSynthesisJob::onTimeout()
{
    if (m_done)
        return;
    if (m_httpStatus == 0)
        fail(Failure::Timeout, QStringLiteral("Azure TTS timed out: no response within %1 ms").arg(m_requestTimeoutMs));
    else
        fail(Failure::Timeout, QStringLiteral("Azure TTS timed out: HTTP %1 body stalled for %2 ms after %3 bytes")
                                   .arg(m_httpStatus).arg(m_requestTimeoutMs).arg(m_bodyBytes));
}

bool AzureSynthesisJob::emitAudio(const QByteArray &mulaw, Flush flush)
{
    m_pending += mulaw;
    const qsizetype n = flush == Flush::Everything ? m_pending.size() : m_pending.size() - m_pending.size() % kFrameBytes;
    if (n == 0)
        return true;
    const QByteArray chunk = m_pending.left(n);
    m_pending.remove(0, n);
    m_audioBytes += n;
    if (m_firstAudioMs < 0)
        m_firstAudioMs = m_clock.elapsed();
    const QPointer<AzureSynthesisJob> self(this);
    Q_EMIT audio(chunk);
    return self && !m_done;
}

void AzureSynthesisJob::complete()
{
    m_done = true;
    m_idleTimer.stop();
    releaseReply();
    Q_EMIT finished();
}

void AzureSynthesisJob::fail(Failure failure, const QString &reason)
{
    if (m_done)
        return;
    m_done = true;
    m_failure = failure;
    m_idleTimer.stop();
    releaseReply();
    log::get("tts")->warn("call=- tenant={} azure: {}", m_tenantId.isEmpty() ? QStringLiteral("-") : m_tenantId, reason);
    Q_EMIT failed(reason);
}

void AzureSynthesisJob::releaseReply()
{
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    disconnect(reply, nullptr, this, nullptr);
    // abort() may run inside the reply's own signal, so the reply is deleted
    // later rather than here.
    reply->abort();
    reply->deleteLater();
}

QString AzureSynthesisJob::httpFailureReason(int status) const
{
    QString what;
    switch (status) {
    case 400: what = QStringLiteral("Azure refused the request (invalid parameter, header or SSML)"); break;
    case 401:
    case 403: what = QStringLiteral("Azure rejected the key or region"); break;
    case 415: what = QStringLiteral("Azure wants Content-Type application/ssml+xml"); break;
    case 429: what = QStringLiteral("too many requests: quota reached or Azure still scaling out, back off"); break;
    default:
        what = status >= 500 ? QStringLiteral("Azure service error") : QStringLiteral("unexpected status");
    }
    QString reason = QStringLiteral("Azure TTS HTTP %1: %2").arg(status).arg(what);
    if (const QString body = excerpt(m_errorBody); !body.isEmpty())
        reason += QStringLiteral(" (%1)").arg(body);
    return reason;
}

ProviderFailure AzureSynthesisJob::providerFailure() const
{
    ProviderFailure out;
    out.httpStatus = m_httpStatus;
    switch (m_failure) {
    case Failure::NotConfigured:
    case Failure::Unauthorized: out.kind = FailureKind::Unauthorized; break;
    case Failure::RateLimited: out.kind = FailureKind::RateLimited; break;
    case Failure::ServerError: out.kind = FailureKind::ServerError; break;
    case Failure::HttpError: out.kind = failureKindForHttpStatus(m_httpStatus); break;
    case Failure::Timeout: out.kind = FailureKind::Timeout; break;
    case Failure::Network: out.kind = FailureKind::Connect; break;
    case Failure::None:
    case Failure::BadRequest:
    case Failure::UnsupportedMediaType:
    case Failure::Truncated:
    case Failure::Decode: out.kind = FailureKind::Protocol; break;
    }
    return out;
}

} // namespace apex
