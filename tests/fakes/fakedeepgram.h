#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QQueue>
#include <QStringList>
#include <QTcpServer>
#include <QUrl>
#include <QUrlQuery>
#include <QWebSocketServer>

class QTcpSocket;

namespace apex::test {

class FakeDeepgramSession;

// Deepgram's live endpoint (/v1/listen, protocols.md §3) on 127.0.0.1, for tests.
//
// A QTcpServer takes each connection first and reads the HTTP upgrade itself:
// that is how a wrong or missing `Authorization: Token <key>` gets a real
// `401` (with `dg-error`), as Deepgram answers, which QWebSocketServer alone
// cannot send in Qt 6.4. Accepted upgrades are handed to a QWebSocketServer.
//
// It does not recognise speech. Each connection decodes the audio as its query
// says (mulaw or linear16), finds speech with the energy VAD, and answers with
// Deepgram-shaped messages whose words come from a script: one string per
// utterance, shared by all connections, so an utterance cut by a dropped
// connection is finished by the next one. Times are audio time (samples
// received), so results do not depend on how fast a test pushes audio.
class FakeDeepgram : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString apiKey = QStringLiteral("test-key");
        int noAudioTimeoutMs = 10000; // 1011 NET-0001 after this long without audio or text (wall clock)
        int firstInterimMs = 200;     // first interim this long after onset
        int interimIntervalMs = 1000; // then one per this much speech
        int finalSegmentMs = 0;       // >0: an is_final (not speech_final) every this much speech
        bool sendSpeechFinal = true;  // false: turns end only by UtteranceEnd (a noisy line)
        double wordsPerSecond = 2.5;  // how fast interims reveal the scripted words
        // Deepgram decodes as the audio arrives: once the caller pauses, an
        // interim holds every word said so far, before the endpointing silence
        // has run out (speech_final). The fake sends it after this much
        // silence (0: never; not sent when endpointing is this short or shorter).
        // A script's "|" marks where a caller pauses mid-utterance: the Nth
        // pause reveals the words before the Nth "|" (finals never show "|").
        int pauseInterimMs = 60;
    };

    struct Faults
    {
        int refuseHandshakeStatus = 0; // every upgrade answered with this HTTP status (e.g. 500)
        int dropAfterAudioMs = 0;      // abrupt TCP close once a connection has this much audio
        int dropAfterUtterances = 0;   // abrupt TCP close right after a connection's Nth end of turn
        int dropConnections = 1;       // how many connections the drop faults hit (the first ones)
        bool undecodableAudio = false; // close 1008 DATA-0000 on the first audio frame
        bool mute = false;             // accept and read the stream, never send a message (a deaf ear)
        // Wall-clock faults, from the moment a connection opened, for the first
        // dropConnections connections (like the drop faults above); lifted
        // before they fire, they do not fire.
        int dropAfterMs = 0;           // abrupt TCP close, no close frame
        int closeAfterMs = 0;          // a close frame with closeCode
        int closeCode = 1011;
    };

    // What one connection (or refused upgrade) brought.
    struct Connection
    {
        QString path;
        QUrlQuery query;
        QHash<QByteArray, QByteArray> headers; // names lower-case
        int refusedWithStatus = 0;             // the HTTP status sent instead of 101, if any
        QByteArray audio;                      // binary frames as received
        int binaryFrames = 0;
        int emptyBinaryFrames = 0;
        QStringList textMessages;              // client -> server
        QStringList sentMessages;              // server -> client
        bool accepted = false;                 // upgraded to a WebSocket
        bool open = false;
        bool droppedByFault = false;
        int clientCloseCode = -1;              // QWebSocket::closeCode() seen by the server
        int serverCloseCode = -1;              // what the fake closed with, if it did
    };

    explicit FakeDeepgram(QObject *parent = nullptr);
    ~FakeDeepgram() override;

    bool listen(quint16 port = 0);
    QUrl url() const; // ws://127.0.0.1:<port>/v1/listen

    void setOptions(const Options &options) { m_options = options; }
    const Options &options() const { return m_options; }
    void setFaults(const Faults &faults) { m_faults = faults; }
    const Faults &faults() const { return m_faults; }

    // One transcript per utterance, in order; an utterance with no script left
    // gets an empty transcript, as Deepgram gives for noise.
    void addTranscript(const QString &text) { m_script.enqueue(text.split(QLatin1Char(' '), Qt::SkipEmptyParts)); }
    int transcriptsLeft() const { return int(m_script.size()); }

    // Every upgrade attempt, accepted or refused, in order.
    const QList<Connection> &connections() const { return m_connections; }
    int connectionCount() const;  // accepted WebSocket connections
    int handshakeCount() const { return int(m_connections.size()); }
    int openConnectionCount() const;
    QByteArray allAudio() const;  // all connections' audio, in order
    int textMessageCount(const QString &type) const; // client messages with this "type"
    int sentMessageCount(const QString &type) const; // server messages with this "type"

    // Session side: script and records.
    QStringList *currentUtterance(); // nullptr when the script is empty
    void finishUtterance();
    Connection &record(int index) { return m_connections[index]; }

Q_SIGNALS:
    void connectionOpened(int index);
    void connectionClosed(int index);
    // A message just handed to connection index's socket (load runs stamp speech_final by it).
    void messageSent(int index, const QString &text);

private:
    void onTcpConnection();
    void onUpgradeBytes(QTcpSocket *socket);
    void onWebSocketConnection();
    void refuse(QTcpSocket *socket, int status, const QByteArray &error, const QString &message);

    Options m_options;
    Faults m_faults;
    QTcpServer m_tcp;
    QWebSocketServer m_webSockets;
    QList<Connection> m_connections;
    QHash<quint16, int> m_pendingByPeerPort; // handed to m_webSockets, not yet upgraded
    QQueue<QStringList> m_script;
    QList<FakeDeepgramSession *> m_sessions;
};

} // namespace apex::test
