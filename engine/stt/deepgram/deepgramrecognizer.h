#pragma once

#include "observability/logging.h"
#include "stt/deepgram/deepgramsettings.h"
#include "stt/deepgram/deepgramturnassembler.h"
#include "stt/speechrecognizer.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QElapsedTimer>
#include <QTimer>

class QWebSocket;

namespace apex {

// Deepgram live transcription for one call: one WebSocket, opened at
// construction on the call's thread, that carries the caller's mu-law as binary
// frames and turns Deepgram's Results/SpeechStarted/UtteranceEnd into the
// SpeechRecognizer signals (rules in DeepgramTurnAssembler).
//
// Nothing here blocks. Audio pushed while the socket connects is held (bounded by
// replayBufferMs) and sent on connect. Audio since the last is_final result is
// kept too, so a connection that drops mid-call is reopened at once and that
// audio re-sent: the words in flight are not lost, and each endOfSpeech is still
// followed by exactly one finalTranscript. failed() comes only when Deepgram
// refuses us (key, request, undecodable audio) or reconnectAttempts connections
// in a row fail. After stop() or failed() no signal is emitted; stop() sends
// Finalize and CloseStream and lets the socket close on its own, so the
// recognizer may be deleted right after it.
class DeepgramRecognizer : public SpeechRecognizer
{
    Q_OBJECT
public:
    DeepgramRecognizer(DeepgramSettings settings, DeepgramCallSettings call, QObject *parent = nullptr);
    ~DeepgramRecognizer() override;

    void pushMulaw(QByteArrayView mulaw) override;
    void stop() override;

    bool isConnected() const { return m_open; }
    int connectionsOpened() const { return m_connectionsOpened; } // reconnects included
    QUrl listenUrl() const { return m_url; }
    ProviderFailure providerFailure() const override { return m_failure; }

private:
    void openSocket();
    void onConnected();
    void onSocketLost(QWebSocket *socket);
    void onTextMessage(const QString &message);
    void onKeepAliveTimer();
    void applyUpdate(const DeepgramTurnAssembler::Update &update);
    void confirmAudioUpTo(double streamSec);
    void sendAudio(QByteArrayView mulaw);
    void fail(ProviderFailure failure, const QString &reason);
    void releaseSocket(QWebSocket *socket);
    double callSeconds(double streamSec) const;

    const DeepgramSettings m_settings;
    const DeepgramCallSettings m_call;
    const QUrl m_url;
    log::CallLogger m_log;
    DeepgramTurnAssembler m_turn;

    QWebSocket *m_socket = nullptr; // the current connection; replaced on reconnect
    bool m_open = false;
    bool m_stopped = false;
    bool m_failed = false;
    ProviderFailure m_failure;
    int m_connectionsOpened = 0;
    int m_failuresInRow = 0;        // reset once a connection has produced a final result
    QList<qint64> m_recentDrops;    // when connections were lost (monotonic ms), the last minute
    QAbstractSocket::SocketError m_lastError = QAbstractSocket::UnknownSocketError;
    QTimer m_reconnectTimer;

    // Caller audio not yet covered by an is_final result: what a new connection
    // starts with. Sample positions count from the start of the call (1 byte =
    // 1 sample at 8 kHz).
    QByteArray m_unconfirmed;
    qint64 m_unconfirmedStartSample = 0;
    qint64 m_connectionStartSample = 0; // call sample at stream time 0 of m_socket

    QTimer m_keepAliveTimer;
    QElapsedTimer m_sinceLastSend;
};

} // namespace apex
