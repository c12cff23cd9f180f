#include "telephony/twiliomedialeg.h"

#include "observability/clock.h"
#include "observability/logescape.h"
#include "observability/logthrottle.h"
#include "telephony/streamtoken.h"

#include <QMetaObject>
#include <QWebSocket>

#include <atomic>

namespace apex {

namespace {

// Wire values in log lines: a CallSid is 34 characters, a number 16.
constexpr qsizetype kLogIdChars = 64;

std::atomic<std::uint64_t> g_streamsRefused{0};

QString addressText(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4).toString() : address.toString();
}

// RFC 6455: the close reason must fit a control frame (123 bytes of UTF-8).
QString closeReason(const QString &reason)
{
    QString cut = reason;
    while (cut.toUtf8().size() > 123)
        cut.chop(1);
    return cut;
}

} // namespace

TwilioMediaLeg::TwilioMediaLeg(std::unique_ptr<QWebSocket> socket, QObject *parent)
    : CallLeg(parent)
    , m_socket(std::move(socket))
    , m_log("twilio")
    , m_startTimer(this)
    , m_mediaTimer(this)
{
    Q_ASSERT(m_socket);
    // A child, so moveToThread() carries it along; the unique_ptr deletes it
    // before ~QObject would, which QObject tolerates.
    m_socket->setParent(this);
    m_peer = QStringLiteral("%1:%2").arg(m_socket->peerAddress().toString()).arg(m_socket->peerPort());
    m_peerAddress = addressText(m_socket->peerAddress());
    m_socket->setMaxAllowedIncomingFrameSize(quint64(twilio::kMaxFrameBytes));
    m_socket->setMaxAllowedIncomingMessageSize(quint64(twilio::kMaxFrameBytes));

    connect(m_socket.get(), &QWebSocket::textMessageReceived, this, &TwilioMediaLeg::onTextMessage);
    connect(m_socket.get(), &QWebSocket::binaryMessageReceived, this, &TwilioMediaLeg::onBinaryMessage);
    connect(m_socket.get(), &QWebSocket::disconnected, this, &TwilioMediaLeg::onDisconnected);

    m_startTimer.setSingleShot(true);
    m_startTimer.setInterval(kDefaultStartTimeoutMs);
    connect(&m_startTimer, &QTimer::timeout, this, [this] {
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated,
                     QStringLiteral("no start within %1 ms").arg(m_startTimer.interval()));
    });
    m_startTimer.start();

    // One single-shot timer re-armed for what is left of the gap, rather than
    // restarted on each of the 50 frames a second.
    m_mediaTimer.setSingleShot(true);
    connect(&m_mediaTimer, &QTimer::timeout, this, &TwilioMediaLeg::onMediaDeadline);

    if (m_socket->state() != QAbstractSocket::ConnectedState) {
        // Closed between the upgrade and us: still end exactly once, later.
        QMetaObject::invokeMethod(this, &TwilioMediaLeg::onDisconnected, Qt::QueuedConnection);
    }
}

TwilioMediaLeg::~TwilioMediaLeg()
{
    // Closing emits disconnected synchronously; nothing may reach a half-destroyed leg.
    m_socket->disconnect(this);
    if (m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("call torn down"));
}

void TwilioMediaLeg::setStartTimeoutMs(int ms)
{
    m_startTimer.setInterval(ms);
    if (m_startTimer.isActive())
        m_startTimer.start();
}

void TwilioMediaLeg::setMediaTimeoutMs(int ms)
{
    m_mediaTimeoutMs = ms;
    if (m_mediaTimer.isActive())
        onMediaDeadline();
}

std::uint64_t TwilioMediaLeg::streamsRefused()
{
    return g_streamsRefused.load();
}

void TwilioMediaLeg::onMediaDeadline()
{
    if (m_state != State::Streaming)
        return;
    const std::int64_t silentMs = (monotonicNowNs() - m_lastMediaNs) / 1'000'000;
    if (silentMs >= m_mediaTimeoutMs) {
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated,
                     QStringLiteral("no media for %1 ms after start").arg(m_mediaTimeoutMs));
        return;
    }
    m_mediaTimer.start(int(m_mediaTimeoutMs - silentMs));
}

void TwilioMediaLeg::onTextMessage(const QString &message)
{
    if (m_state == State::Ended)
        return;
    const QByteArray utf8 = message.toUtf8();
    auto parsed = twilio::parseInbound(utf8);
    if (!parsed.ok()) {
        const twilio::ParseError &error = parsed.error();
        const auto code = error.kind == twilio::ParseErrorKind::FrameTooLarge ? QWebSocketProtocol::CloseCodeTooMuchData
                        : error.kind == twilio::ParseErrorKind::UnknownEvent ? QWebSocketProtocol::CloseCodePolicyViolated
                                                                             : QWebSocketProtocol::CloseCodeProtocolError;
        failProtocol(code, QStringLiteral("%1: %2").arg(twilio::toString(error.kind), error.detail));
        return;
    }
    std::visit(
        [this](auto &event) {
            using T = std::decay_t<decltype(event)>;
            if constexpr (std::is_same_v<T, twilio::ConnectedEvent>) {
                if (m_state != State::AwaitingStart)
                    failProtocol(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("connected after start"));
                else
                    m_log.debug("{}: connected (protocol {}, version {})", m_peer, logSafe(event.protocol, kLogIdChars),
                                logSafe(event.version, kLogIdChars));
            } else {
                handle(event);
            }
        },
        parsed.value());
}

void TwilioMediaLeg::handle(const twilio::StartEvent &event)
{
    if (m_state != State::AwaitingStart) {
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("second start"));
        return;
    }
    m_startTimer.stop();
    m_info.callId = event.callSid;
    m_info.streamId = event.streamSid;
    m_info.parameters = event.customParameters;
    m_log.bind(logSafe(m_info.callId, kLogIdChars), QString());
    if (!admit(event))
        return;
    m_info.from = m_info.parameters.value(QStringLiteral("from"));
    m_info.to = m_info.parameters.value(QStringLiteral("to"));
    m_log.bind(logSafe(m_info.callId, kLogIdChars), logSafe(m_info.parameters.value(QStringLiteral("tenant")), kLogIdChars));
    if (event.mediaFormat.encoding != QLatin1String("audio/x-mulaw") || event.mediaFormat.sampleRateHz != 8000
        || event.mediaFormat.channels != 1) {
        // Twilio never varies it; a fake that does would feed the pipeline noise.
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated,
                     QStringLiteral("unsupported media format %1/%2/%3")
                         .arg(event.mediaFormat.encoding)
                         .arg(event.mediaFormat.sampleRateHz)
                         .arg(event.mediaFormat.channels));
        return;
    }
    m_state = State::Streaming;
    m_lastMediaNs = monotonicNowNs();
    m_mediaTimer.start(m_mediaTimeoutMs);
    m_log.info("stream {} started from {} (from {}, to {}{})", logSafe(m_info.streamId, kLogIdChars), m_peer,
               logSafe(m_info.from, kLogIdChars), logSafe(m_info.to, kLogIdChars),
               m_tokens ? QStringLiteral(", stream token valid") : QString());
    Q_EMIT started(m_info);
}

bool TwilioMediaLeg::admit(const twilio::StartEvent &event)
{
    // Never passed on: it would end up in logs and the session's parameters.
    const QString token = m_info.parameters.take(QLatin1String(kTokenParameter));
    if (!m_tokens)
        return true;
    QString refusal;
    if (token.isEmpty()) {
        refusal = QStringLiteral("no stream token");
    } else {
        const StreamTokenCheck check = m_tokens->verify(token);
        if (!check.ok())
            refusal = QStringLiteral("stream token %1").arg(streamTokenReasonName(check.reason));
        else if (check.callSid != event.callSid)
            refusal = QStringLiteral("stream token minted for another call");
        else
            m_info.parameters.insert(QStringLiteral("tenant"), check.tenantId);
    }
    if (refusal.isEmpty())
        return true;
    ++g_streamsRefused;
    failProtocol(QWebSocketProtocol::CloseCodePolicyViolated, refusal);
    return false;
}

void TwilioMediaLeg::handle(const twilio::MediaEvent &event)
{
    if (m_state != State::Streaming) {
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("media before start"));
        return;
    }
    if (!event.streamSid.isEmpty() && event.streamSid != m_info.streamId) {
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated,
                     QStringLiteral("media for stream %1, expected %2").arg(event.streamSid.left(40), m_info.streamId));
        return;
    }
    m_lastMediaNs = monotonicNowNs();
    if (event.payload.isEmpty())
        return;
    Q_EMIT audioReceived(event.payload);
}

void TwilioMediaLeg::handle(const twilio::DtmfEvent &event)
{
    if (m_state != State::Streaming) {
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("dtmf before start"));
        return;
    }
    Q_EMIT dtmfReceived(event.digit);
}

void TwilioMediaLeg::handle(const twilio::MarkEvent &event)
{
    if (m_state != State::Streaming) {
        failProtocol(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("mark before start"));
        return;
    }
    Q_EMIT markPlayed(event.name);
}

void TwilioMediaLeg::handle(const twilio::StopEvent &event)
{
    Q_UNUSED(event);
    m_log.info("stream {} stopped by Twilio (caller hung up)", logSafe(m_info.streamId, kLogIdChars));
    // Twilio closes right after `stop`; closing ourselves frees the socket now.
    finish(CallEndReason::CallerHungUp, QStringLiteral("stop"), QWebSocketProtocol::CloseCodeNormal,
           QStringLiteral("stop received"));
}

void TwilioMediaLeg::onBinaryMessage(const QByteArray &message)
{
    if (m_state == State::Ended)
        return;
    failProtocol(QWebSocketProtocol::CloseCodeDatatypeNotSupported,
                 QStringLiteral("binary frame of %1 bytes (Twilio sends JSON text)").arg(message.size()));
}

void TwilioMediaLeg::onDisconnected()
{
    if (m_state == State::Ended)
        return;
    const auto code = m_socket->closeCode();
    if (code == QWebSocketProtocol::CloseCodeTooMuchData) {
        // Qt enforces the frame/message limits itself and closes before we see
        // the text; this is where an oversized frame surfaces.
        if (RemoteLogThrottle::shared().allow(m_peerAddress).log)
            m_log.error("{}: frame over {} bytes; stream closed ({})", m_peer, twilio::kMaxFrameBytes, int(code));
        finish(CallEndReason::ProtocolError,
               QStringLiteral("frame too large: over %1 bytes").arg(twilio::kMaxFrameBytes));
        return;
    }
    const QString detail = QStringLiteral("socket closed (%1%2%3)")
                               .arg(int(code))
                               .arg(m_socket->closeReason().isEmpty() ? QString() : QStringLiteral(": "),
                                    m_socket->closeReason());
    if (m_info.callId.isEmpty()) {
        // Never started: a probe or a flood, not a call; its lines are throttled.
        if (RemoteLogThrottle::shared().allow(m_peerAddress).log)
            m_log.info("{}: {} before start", m_peer, logSafe(detail));
    } else {
        m_log.info("{}: {} without stop", m_peer, logSafe(detail));
    }
    finish(CallEndReason::TransportClosed, detail);
}

void TwilioMediaLeg::failProtocol(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    if (m_state == State::Ended)
        return;
    const auto decision = RemoteLogThrottle::shared().allow(m_peerAddress);
    if (decision.log) {
        m_log.error("{}: protocol error: {}; closing stream with {}{}", m_peer, logSafe(reason), int(code),
                    decision.suppressedBefore > 0
                        ? fmt::format(" ({} more lines about {} suppressed)", decision.suppressedBefore, m_peerAddress)
                        : std::string());
    }
    finish(CallEndReason::ProtocolError, reason, code, closeReason(reason));
}

void TwilioMediaLeg::finish(CallEndReason reason, const QString &detail,
                            std::optional<QWebSocketProtocol::CloseCode> closeCode, const QString &closeText)
{
    if (m_state == State::Ended)
        return;
    m_state = State::Ended;
    m_startTimer.stop();
    m_mediaTimer.stop();
    if (m_droppedBackpressure > 0)
        m_log.warn("dropped {} outbound messages: peer not reading", m_droppedBackpressure);
    if (closeCode)
        m_socket->close(*closeCode, closeText);
    // Last: a receiver may delete the leg (it should prefer deleteLater).
    Q_EMIT ended(reason, detail);
}

bool TwilioMediaLeg::sendable(const char *what)
{
    if (m_state == State::Streaming)
        return true;
    // Before start there is no streamSid to address (protocols.md §1.3).
    // Powers of two only: a pipeline stuck sending 50 frames/s must not flood the log.
    const qint64 n = ++m_droppedBeforeStart;
    if ((n & (n - 1)) == 0)
        m_log.warn("{}: {} dropped: stream {} ({} dropped so far)", m_peer, what,
                   m_state == State::AwaitingStart ? "not started yet" : "already ended", n);
    return false;
}

void TwilioMediaLeg::send(const QByteArray &json)
{
    if (m_socket->bytesToWrite() > kMaxPendingWriteBytes) {
        if (m_droppedBackpressure++ == 0)
            m_log.warn("{} bytes queued for Twilio; dropping outbound messages", m_socket->bytesToWrite());
        return;
    }
    m_socket->sendTextMessage(QString::fromUtf8(json));
}

void TwilioMediaLeg::sendAudio(QByteArrayView mulaw)
{
    if (!sendable("audio") || mulaw.isEmpty())
        return;
    send(twilio::mediaJson(m_info.streamId, mulaw));
}

void TwilioMediaLeg::sendMark(const QString &name)
{
    if (!sendable("mark"))
        return;
    send(twilio::toJson(twilio::OutboundMark{m_info.streamId, name}));
}

void TwilioMediaLeg::clearAudio()
{
    if (!sendable("clear"))
        return;
    send(twilio::toJson(twilio::OutboundClear{m_info.streamId}));
}

void TwilioMediaLeg::hangUp()
{
    if (m_state == State::Ended)
        return;
    m_log.info("agent hangs up stream {}", logSafe(m_info.streamId, kLogIdChars));
    m_state = State::Ended;
    m_startTimer.stop();
    m_mediaTimer.stop();
    m_socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("agent hung up"));
    // Queued: the caller of hangUp() must not be re-entered through ended().
    QMetaObject::invokeMethod(
        this, [this] { Q_EMIT ended(CallEndReason::AgentHungUp, QStringLiteral("hangUp")); }, Qt::QueuedConnection);
}

} // namespace apex
