#pragma once

#include "observability/logging.h"
#include "telephony/callleg.h"
#include "telephony/twiliomessages.h"

#include <QTimer>
#include <QWebSocketProtocol>

#include <cstdint>
#include <memory>
#include <optional>

class QWebSocket;

namespace apex {

class StreamTokenIssuer;

// A Twilio bidirectional Media Stream (protocols.md §1) as a CallLeg.
//
// Takes an already-upgraded server-side socket. Expects `connected` (optional),
// then `start`, then media/dtmf/mark until `stop` or the socket closes. Anything
// else -- malformed JSON, bad base64, media before start, an unknown event, a
// binary frame, a frame over 64 KB, no start within startTimeoutMs, no media
// for mediaTimeoutMs after start -- is logged and the stream is closed with a
// close code and reason; ended(ProtocolError) follows.
//
// With stream tokens set (the engine has a Twilio auth token), `start` must
// carry the token our voice webhook put in the TwiML as the <Parameter>
// "token": valid, unexpired, unused and minted for this CallSid, else the
// stream is closed with 1008. The call's tenant is then the token's, whatever
// "tenant" parameter the peer sent, and the token is not passed on. ended() is emitted exactly once, never from inside sendAudio(),
// sendMark(), clearAudio() or hangUp(), so a session may delete itself on it.
//
// The socket is a QObject child of the leg: moveToThread() on the leg moves the
// stream with it (do it before started() if the call runs on another thread).
class TwilioMediaLeg : public CallLeg
{
    Q_OBJECT
public:
    enum class State { AwaitingStart, Streaming, Ended };

    static constexpr int kDefaultStartTimeoutMs = 5'000;
    static constexpr int kDefaultMediaTimeoutMs = 10'000;
    static constexpr const char *kTokenParameter = "token";
    // Twilio buffers everything we send; this bounds what Qt may queue for a
    // peer that stopped reading (about 2 minutes of audio as JSON).
    static constexpr qint64 kMaxPendingWriteBytes = 4 * 1024 * 1024;

    explicit TwilioMediaLeg(std::unique_ptr<QWebSocket> socket, QObject *parent = nullptr);
    ~TwilioMediaLeg() override;

    void sendAudio(QByteArrayView mulaw) override;
    void sendMark(const QString &name) override;
    void clearAudio() override;
    // Closes the stream normally; Twilio then runs the next verb (none: hangs up).
    void hangUp() override;

    State state() const { return m_state; }
    const CallStartInfo &startInfo() const { return m_info; }
    QString peer() const { return m_peer; }
    void setStartTimeoutMs(int ms);
    void setMediaTimeoutMs(int ms);
    // Streams closed at `start` for a missing, bad, expired or replayed token.
    static std::uint64_t streamsRefused();
    // Before `start` arrives (ApexServer sets it on every leg it creates).
    void setStreamTokens(std::shared_ptr<StreamTokenIssuer> issuer) { m_tokens = std::move(issuer); }

private:
    void onTextMessage(const QString &message);
    void onBinaryMessage(const QByteArray &message);
    void onDisconnected();
    void onMediaDeadline();
    // The stream token check at `start`; false: the stream has been closed.
    bool admit(const twilio::StartEvent &event);
    void handle(const twilio::StartEvent &event);
    void handle(const twilio::MediaEvent &event);
    void handle(const twilio::DtmfEvent &event);
    void handle(const twilio::MarkEvent &event);
    void handle(const twilio::StopEvent &event);
    // Log, close with code + reason, emit ended(ProtocolError).
    void failProtocol(QWebSocketProtocol::CloseCode code, const QString &reason);
    // Ends once: optionally closes the socket, then emits ended().
    void finish(CallEndReason reason, const QString &detail,
                std::optional<QWebSocketProtocol::CloseCode> closeCode = std::nullopt, const QString &closeText = {});
    bool sendable(const char *what);
    void send(const QByteArray &json);

    std::unique_ptr<QWebSocket> m_socket;
    log::CallLogger m_log;
    CallStartInfo m_info;
    QString m_peer;
    QString m_peerAddress; // the log throttle's key
    std::shared_ptr<StreamTokenIssuer> m_tokens;
    State m_state = State::AwaitingStart;
    QTimer m_startTimer;
    QTimer m_mediaTimer;
    int m_mediaTimeoutMs = kDefaultMediaTimeoutMs;
    std::int64_t m_lastMediaNs = 0;
    qint64 m_droppedBeforeStart = 0; // also counts sends after the end
    qint64 m_droppedBackpressure = 0;
};

} // namespace apex
