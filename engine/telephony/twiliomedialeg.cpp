#include "telephony/twiliomedialeg.h"

#include <QMetaObject>
#include <QWebSocket>

namespace apex {

namespace {

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
{
    Q_ASSERT(m_socket);
    // A child, so moveToThread() carries it along; the unique_ptr deletes it
    // before ~QObject would, which QObject tolerates.
    m_socket->setParent(this);
    m_peer = QStringLiteral("%1:%2").arg(m_socket->peerAddress().toString()).arg(m_socket->peerPort());
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
                    m_log.debug("{}: connected (protocol {}, version {})", m_peer, event.protocol, event.version);
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
    m_info.from = event.customParameters.value(QStringLiteral("from"));
    m_info.to = event.customParameters.value(QStringLiteral("to"));
    m_log.bind(m_info.callId, event.customParameters.value(QStringLiteral("tenant")));
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
    m_log.info("stream {} started from {} (from {}, to {})", m_info.streamId, m_peer, m_info.from, m_info.to);
    Q_EMIT started(m_info);
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
    m_log.info("stream {} stopped by Twilio (caller hung up)", m_info.streamId);
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
        m_log.error("{}: frame over {} bytes; stream closed ({})", m_peer, twilio::kMaxFrameBytes, int(code));
        finish(CallEndReason::ProtocolError,
               QStringLiteral("frame too large: over %1 bytes").arg(twilio::kMaxFrameBytes));
        return;
    }
    const QString detail = QStringLiteral("socket closed (%1%2%3)")
                               .arg(int(code))
                               .arg(m_socket->closeReason().isEmpty() ? QString() : QStringLiteral(": "),
                                    m_socket->closeReason());
    m_log.info("{}: {} without stop", m_peer, detail);
    finish(CallEndReason::TransportClosed, detail);
}

void TwilioMediaLeg::failProtocol(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    if (m_state == State::Ended)
        return;
    m_log.error("{}: protocol error: {}; closing stream with {}", m_peer, reason, int(code));
    finish(CallEndReason::ProtocolError, reason, code, closeReason(reason));
}

void TwilioMediaLeg::finish(CallEndReason reason, const QString &detail,
                            std::optional<QWebSocketProtocol::CloseCode> closeCode, const QString &closeText)
{
    if (m_state == State::Ended)
        return;
    m_state = State::Ended;
    m_startTimer.stop();
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
    m_log.info("agent hangs up stream {}", m_info.streamId);
    m_state = State::Ended;
    m_startTimer.stop();
    m_socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("agent hung up"));
    // Queued: the caller of hangUp() must not be re-entered through ended().
    QMetaObject::invokeMethod(
        this, [this] { Q_EMIT ended(CallEndReason::AgentHungUp, QStringLiteral("hangUp")); }, Qt::QueuedConnection);
}

} // namespace apex
