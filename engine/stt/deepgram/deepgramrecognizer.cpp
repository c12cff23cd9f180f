#include "stt/deepgram/deepgramrecognizer.h"

#include "stt/deepgram/deepgrammessage.h"

#include "audio/g711.h"
#include "observability/clock.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QPointer>
#include <QRegularExpression>
#include <QWebSocket>
#include <QtEndian>

#include <algorithm>
#include <cmath>

namespace apex {

namespace {

constexpr int kSampleRate = 8000;
constexpr qsizetype kMaxFrameBytes = kSampleRate; // 1 s of mu-law per binary frame when catching up

const QString kKeepAlive = QStringLiteral(R"({"type":"KeepAlive"})");
const QString kFinalize = QStringLiteral(R"({"type":"Finalize"})");
const QString kCloseStream = QStringLiteral(R"({"type":"CloseStream"})");

// Qt 6.4 reports a refused upgrade only as text:
// "QWebSocketPrivate::processHandshake: Unhandled http status code: 401 (Unauthorized)."
int handshakeStatus(const QString &errorString)
{
    static const QRegularExpression pattern(QStringLiteral(R"(status code:?\s*(\d{3}))"),
                                            QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch match = pattern.match(errorString);
    return match.hasMatch() ? match.captured(1).toInt() : 0;
}

QString describeStatus(int status)
{
    switch (status) {
    case 401:
        return QStringLiteral("Deepgram rejected the key (401)");
    case 402:
        return QStringLiteral("Deepgram refused the stream: account out of credit (402)");
    case 403:
        return QStringLiteral("Deepgram refused the key for this model or feature (403)");
    default:
        break;
    }
    if (status >= 400 && status < 500)
        return QStringLiteral("Deepgram refused the stream request (HTTP %1): check model, language and parameters").arg(status);
    return QStringLiteral("Deepgram is unavailable (HTTP %1)").arg(status);
}

// Deepgram may refuse for a while (rate limit, overload); the rest of 4xx is
// about us and does not get better by asking again.
bool statusIsRetryable(int status)
{
    return status == 408 || status == 429 || status >= 500;
}

} // namespace

DeepgramRecognizer::DeepgramRecognizer(DeepgramSettings settings, DeepgramCallSettings call, QObject *parent)
    : SpeechRecognizer(parent)
    , m_settings(std::move(settings))
    , m_call(std::move(call))
    , m_url(deepgramListenUrl(m_settings, m_call))
    , m_log("stt", m_call.callId, m_call.tenantId)
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &DeepgramRecognizer::openSocket);
    m_keepAliveTimer.setSingleShot(true);
    connect(&m_keepAliveTimer, &QTimer::timeout, this, &DeepgramRecognizer::onKeepAliveTimer);
    if (m_settings.apiKey.isEmpty()) {
        fail(ProviderFailure{FailureKind::Unauthorized}, QStringLiteral("Deepgram has no API key configured"));
        return;
    }
    openSocket();
}

DeepgramRecognizer::~DeepgramRecognizer()
{
    stop();
}

void DeepgramRecognizer::openSocket()
{
    if (m_stopped || m_failed)
        return;
    auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_socket = socket;
    m_open = false;
    m_lastError = QAbstractSocket::UnknownSocketError;
    connect(socket, &QWebSocket::connected, this, &DeepgramRecognizer::onConnected);
    connect(socket, &QWebSocket::textMessageReceived, this, &DeepgramRecognizer::onTextMessage);
    connect(socket, &QWebSocket::disconnected, this, [this, socket] { onSocketLost(socket); });
    connect(socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            [this, socket](QAbstractSocket::SocketError error) {
                if (socket != m_socket)
                    return;
                m_lastError = error;
                // Queued: a close frame's code is only known once `disconnected`
                // has run, and that usually follows this signal.
                QMetaObject::invokeMethod(this, [this, guard = QPointer<QWebSocket>(socket)] {
                    if (guard)
                        onSocketLost(guard);
                }, Qt::QueuedConnection);
            });

    QNetworkRequest request(m_url);
    request.setRawHeader("Authorization", "Token " + m_settings.apiKey.toUtf8());
    m_log.info("connecting to {} (attempt {})", m_url.toString(), m_failuresInRow + 1);
    socket->open(request);
}

void DeepgramRecognizer::onConnected()
{
    auto *socket = qobject_cast<QWebSocket *>(sender());
    if (m_stopped || socket != m_socket)
        return;
    m_open = true;
    ++m_connectionsOpened;
    // The new stream's time 0 is the oldest audio not yet confirmed final.
    m_connectionStartSample = m_unconfirmedStartSample;
    if (m_connectionsOpened > 1)
        m_log.warn("reconnected; re-sending {} ms of audio not yet final", m_unconfirmed.size() * 1000 / kSampleRate);
    else
        m_log.info("connected");
    for (qsizetype offset = 0; offset < m_unconfirmed.size(); offset += kMaxFrameBytes)
        sendAudio(QByteArrayView(m_unconfirmed).sliced(offset, std::min(kMaxFrameBytes, m_unconfirmed.size() - offset)));
    m_sinceLastSend.start();
    m_keepAliveTimer.start(m_settings.keepAliveIntervalMs);
}

void DeepgramRecognizer::pushMulaw(QByteArrayView mulaw)
{
    if (m_stopped || m_failed || mulaw.isEmpty())
        return; // an empty binary frame would tell Deepgram to close the stream
    m_unconfirmed.append(mulaw.data(), mulaw.size());
    const qsizetype limit = qsizetype(m_settings.replayBufferMs) * kSampleRate / 1000;
    if (m_unconfirmed.size() > limit) {
        // Silence keeps no results coming; the oldest audio is the least likely
        // to hold words we still need.
        const qsizetype excess = m_unconfirmed.size() - limit;
        m_unconfirmed.remove(0, excess);
        m_unconfirmedStartSample += excess;
    }
    if (m_open)
        sendAudio(mulaw);
}

void DeepgramRecognizer::sendAudio(QByteArrayView mulaw)
{
    if (m_settings.encoding == QLatin1String("linear16")) {
        const QVector<std::int16_t> pcm = audio::g711::decodeMulaw(mulaw);
        QByteArray bytes(pcm.size() * 2, Qt::Uninitialized);
        qToLittleEndian<std::int16_t>(pcm.constData(), pcm.size(), bytes.data());
        m_socket->sendBinaryMessage(bytes);
    } else {
        m_socket->sendBinaryMessage(QByteArray(mulaw.data(), mulaw.size()));
    }
    m_sinceLastSend.start();
}

void DeepgramRecognizer::onKeepAliveTimer()
{
    if (!m_open || m_stopped)
        return;
    const qint64 idleMs = m_sinceLastSend.elapsed();
    if (idleMs + 1 < m_settings.keepAliveIntervalMs) {
        m_keepAliveTimer.start(int(m_settings.keepAliveIntervalMs - idleMs));
        return;
    }
    // Hold or mute: without this Deepgram closes 1011 NET-0001 after ~10 s.
    m_socket->sendTextMessage(kKeepAlive);
    m_sinceLastSend.start();
    m_keepAliveTimer.start(m_settings.keepAliveIntervalMs);
}

void DeepgramRecognizer::onTextMessage(const QString &message)
{
    if (m_stopped || m_failed || sender() != m_socket)
        return;
    const DeepgramMessage parsed = DeepgramMessage::parse(message);
    switch (parsed.type) {
    case DeepgramMessage::Type::Results: {
        // Only a final proves the connection carries audio: interims from a
        // connection that dies a moment later must not reset the count, or a
        // connection that always dies re-sends its growing backlog forever.
        if (parsed.isFinal)
            m_failuresInRow = 0;
        DeepgramTurnAssembler::Result result;
        result.transcript = parsed.transcript;
        result.isFinal = parsed.isFinal;
        result.speechFinal = parsed.speechFinal;
        result.lastWordEndSec = parsed.lastWordEnd < 0 ? -1.0 : callSeconds(parsed.lastWordEnd);
        if (result.isFinal)
            confirmAudioUpTo(parsed.start + parsed.duration);
        applyUpdate(m_turn.onResults(result));
        break;
    }
    case DeepgramMessage::Type::SpeechStarted:
        applyUpdate(m_turn.onSpeechStarted());
        break;
    case DeepgramMessage::Type::UtteranceEnd:
        applyUpdate(m_turn.onUtteranceEnd(parsed.utteranceLastWordEnd < 0 ? -1.0 : callSeconds(parsed.utteranceLastWordEnd)));
        break;
    case DeepgramMessage::Type::Metadata:
        m_log.debug("metadata: request {}", parsed.requestId);
        break;
    case DeepgramMessage::Type::Error:
        m_log.warn("Deepgram error message: {}", message.left(300));
        break;
    case DeepgramMessage::Type::Other:
        break;
    }
}

void DeepgramRecognizer::applyUpdate(const DeepgramTurnAssembler::Update &update)
{
    if (update.speechStarted) {
        Q_EMIT speechStarted();
        if (m_stopped)
            return;
    }
    if (update.partial) {
        Q_EMIT partialTranscript(*update.partial);
        if (m_stopped)
            return;
    }
    if (update.finalText) {
        Q_EMIT endOfSpeech();
        if (!m_stopped)
            Q_EMIT finalTranscript(*update.finalText);
    }
}

void DeepgramRecognizer::confirmAudioUpTo(double streamSec)
{
    const qint64 endSample = m_connectionStartSample + std::llround(streamSec * kSampleRate);
    const qint64 drop = std::clamp<qint64>(endSample - m_unconfirmedStartSample, 0, m_unconfirmed.size());
    if (drop > 0) {
        m_unconfirmed.remove(0, drop);
        m_unconfirmedStartSample += drop;
    }
}

double DeepgramRecognizer::callSeconds(double streamSec) const
{
    return double(m_connectionStartSample) / kSampleRate + streamSec;
}

void DeepgramRecognizer::onSocketLost(QWebSocket *socket)
{
    if (m_stopped || m_failed || socket != m_socket)
        return;
    const bool wasOpen = m_open;
    const int closeCode = int(socket->closeCode());
    const QString closeReason = socket->closeReason();
    const QString errorString = socket->errorString();
    const QAbstractSocket::SocketError error = m_lastError;
    releaseSocket(socket);

    if (!wasOpen) {
        const int status = handshakeStatus(errorString);
        if (status > 0 && !statusIsRetryable(status)) {
            fail(ProviderFailure{failureKindForHttpStatus(status), status}, describeStatus(status));
            return;
        }
    } else if (closeCode == QWebSocketProtocol::CloseCodePolicyViolated || closeReason.contains(QLatin1String("DATA-0000"))) {
        fail(ProviderFailure{FailureKind::Protocol}, QStringLiteral("Deepgram could not decode the audio as %1 at 8 kHz (%2 %3)")
                 .arg(m_settings.encoding).arg(closeCode).arg(closeReason));
        return;
    }

    QString detail;
    // Qt reports 1000 also when the TCP connection broke without a close frame;
    // only a reason tells that Deepgram itself closed.
    if (wasOpen && !closeReason.isEmpty())
        detail = QStringLiteral("closed %1 %2").arg(closeCode).arg(closeReason);
    else if (wasOpen)
        detail = QStringLiteral("connection dropped (%1)").arg(errorString.isEmpty() ? QStringLiteral("no close frame") : errorString);
    else if (const int status = handshakeStatus(errorString); status > 0)
        detail = describeStatus(status);
    else
        detail = errorString.isEmpty() ? QStringLiteral("socket error %1").arg(int(error)) : errorString;

    ++m_failuresInRow;
    // However they alternate with finals, this many drops within a minute is
    // a connection that cannot hold: the fallback hears the caller instead.
    const qint64 now = monotonicNowNs() / 1000000;
    m_recentDrops.append(now);
    while (!m_recentDrops.isEmpty() && m_recentDrops.first() < now - 60000)
        m_recentDrops.removeFirst();
    if (m_recentDrops.size() > 2 * m_settings.reconnectAttempts) {
        fail(ProviderFailure{FailureKind::ServerError}, QStringLiteral("Deepgram connection lost %1 times within a minute: %2").arg(m_recentDrops.size()).arg(detail));
        return;
    }
    if (m_failuresInRow > m_settings.reconnectAttempts) {
        fail(ProviderFailure{wasOpen ? FailureKind::ServerError : FailureKind::Connect}, QStringLiteral("Deepgram connection lost: %1 (%2 reconnect attempts failed)")
                 .arg(detail).arg(m_settings.reconnectAttempts));
        return;
    }
    // The first retry goes at once (the caller is talking); later ones back off
    // a little so a struggling server is not hammered.
    const int delayMs = m_failuresInRow <= 1 ? 50 : 250 * (1 << std::min(m_failuresInRow - 2, 4));
    m_log.warn("Deepgram connection lost ({}); reconnecting in {} ms", detail, delayMs);
    m_reconnectTimer.start(delayMs);
}

void DeepgramRecognizer::releaseSocket(QWebSocket *socket)
{
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
    if (socket == m_socket) {
        m_socket = nullptr;
        m_open = false;
        m_keepAliveTimer.stop();
    }
}

void DeepgramRecognizer::fail(ProviderFailure failure, const QString &reason)
{
    if (m_failed || m_stopped)
        return;
    m_failed = true;
    m_failure = failure;
    m_log.error("{}", reason);
    m_reconnectTimer.stop();
    if (m_socket)
        releaseSocket(m_socket);
    m_unconfirmed.clear();
    // Queued: fail() can run inside the constructor, before anyone is connected.
    QMetaObject::invokeMethod(this, [this, reason] {
        if (!m_stopped)
            Q_EMIT failed(reason);
    }, Qt::QueuedConnection);
}

void DeepgramRecognizer::stop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    m_reconnectTimer.stop();
    m_keepAliveTimer.stop();
    m_unconfirmed.clear();
    QWebSocket *socket = m_socket;
    m_socket = nullptr;
    if (!socket)
        return;
    socket->disconnect(this);
    if (!m_open) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    m_open = false;
    // The socket outlives us so the close handshake can finish after the
    // pipeline deletes the recognizer: it closes itself on Metadata (Deepgram's
    // last word), or after closeTimeoutMs, and deletes itself once disconnected.
    socket->setParent(nullptr);
    socket->sendTextMessage(kFinalize);
    socket->sendTextMessage(kCloseStream);
    connect(socket, &QWebSocket::textMessageReceived, socket, [socket](const QString &message) {
        if (QJsonDocument::fromJson(message.toUtf8()).object().value(QLatin1String("type")).toString() == QLatin1String("Metadata"))
            socket->close();
    });
    connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(m_settings.closeTimeoutMs, socket, [socket] {
        socket->abort();
        socket->deleteLater();
    });
}

} // namespace apex
