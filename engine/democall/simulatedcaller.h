#pragma once

#include "democall/callreport.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QObject>
#include <QString>
#include <QTimer>

#include <cstdint>
#include <deque>
#include <memory>

class QNetworkAccessManager;
class QWebSocket;

namespace apex {

enum class GreetingPolicy {
    WaitForGreeting, // the agent speaks first; the caller waits for it to finish
    SpeakFirst,      // the caller starts after initialSilenceMs
};

struct SimulatedCallerOptions
{
    QString host = QStringLiteral("127.0.0.1"); // IPv4, IPv6 (brackets optional) or a name
    quint16 port = 8080;
    QString path = QStringLiteral("/twilio/media");
    QString tenant; // start.customParameters.tenant; empty: not sent (ignored via the webhook)
    QString from = QStringLiteral("+15555550100");
    QString to = QStringLiteral("+15555550199");

    // The script: 8 kHz mu-law, spoken in order (see callaudio.h for WAV files).
    QList<QByteArray> utterances;
    GreetingPolicy greeting = GreetingPolicy::WaitForGreeting;
    int initialSilenceMs = 500;

    // A reply (or the greeting) has finished when everything received has
    // played and no agent frame arrived for this long.
    int agentQuietMs = 800;
    // The agent must start a greeting/reply within this, or the call fails.
    int answerTimeoutMs = 20'000;
    int maxReplyMs = 60'000;
    int connectTimeoutMs = 5'000;
    int trailingSilenceMs = 300; // after the last reply, before `stop`
    // > 0: once the agent has talked this long in a reply, the caller speaks
    // its next utterance over it (and reports whether `clear` came).
    int bargeInAfterMs = 0;

    // Place the call as Twilio does: POST the voice webhook first, then open
    // the stream with the <Parameter>s its TwiML names (the engine's stream
    // token among them) instead of tenant/from/to above. Needed against an
    // engine that has a Twilio auth token.
    bool viaWebhook = false;
    QString webhookPath = QStringLiteral("/twilio/voice");
    // Set: the webhook carries X-Twilio-Signature made with it.
    QString authToken;
    // The URL the signature covers: the engine's public URL + webhookPath when
    // it has one; empty: http://host:port + webhookPath, the URL actually posted to.
    QString signedWebhookUrl;
};

// Plays Twilio's side of a Media Stream against a running engine over a real
// WebSocket (protocols.md §1): `connected`, `start`, then one 160-byte `media`
// every 20 ms on absolute monotonic deadlines for the whole call -- utterance
// audio when speaking, mu-law silence otherwise. The agent's audio goes through
// a virtual playout buffer (20 ms per 160 bytes, played in order from arrival):
// a `mark` is echoed when the audio before it has played; `clear` empties the
// buffer and echoes every pending mark at once, as Twilio does.
//
// Cheap on purpose (a load generator for 20+ calls on 2 cores): one precise
// single-shot timer per call and hand-built JSON on the send path.
//
// finished() is emitted exactly once; delete the caller with deleteLater().
class SimulatedCaller : public QObject
{
    Q_OBJECT
public:
    explicit SimulatedCaller(SimulatedCallerOptions options, QObject *parent = nullptr);
    ~SimulatedCaller() override;

    void start();
    // Ends the call now: `stop`, close, finished() with the reason as an error.
    void abort(const QString &reason);

    bool isRunning() const { return m_phase != Phase::Idle && m_phase != Phase::Done; }
    const CallReport &report() const { return m_report; }
    const SimulatedCallerOptions &options() const { return m_options; }

    // 20 ms frames of 8 kHz mu-law.
    static constexpr int kFrameBytes = 160;
    static constexpr std::int64_t kFrameNs = 20'000'000;

    // True if a mu-law frame holds speech rather than (near) silence.
    static bool isVoiced(QByteArrayView mulaw);

Q_SIGNALS:
    void finished(const apex::CallReport &report);

private:
    enum class Phase { Idle, Webhook, Connecting, WaitingForGreeting, Speaking, AwaitingReply, AgentReplying, Finishing, Closing, Done };

    struct PendingMark
    {
        QString name;
        std::int64_t dueSample;
    };

    void postWebhook();
    void onWebhookAnswer(int status, const QByteArray &body, const QString &networkError);
    void openStream();
    void onConnected();
    void onTextMessage(const QString &message);
    void onBinaryMessage(const QByteArray &message);
    void onDisconnected();
    void onTick();
    void scheduleTick(std::int64_t nowNs);
    void sendFrame(std::int64_t nowNs);
    QByteArray nextCallerFrame(std::int64_t nowNs);
    void advance(std::int64_t nowNs);
    void startUtterance(int index, std::int64_t nowNs);
    void onAgentFrame(const QByteArray &payload, std::int64_t nowNs);
    void onClear(std::int64_t nowNs);
    void echoDueMarks(std::int64_t nowSample);
    void echoMark(const QString &name);
    bool agentQuiet(std::int64_t nowNs) const;
    std::int64_t sampleAt(std::int64_t nowNs) const;
    void malformed(const QString &what);
    void sendText(const QByteArray &json);
    void fail(const QString &reason);
    void finishCall();
    void emitFinished();

    SimulatedCallerOptions m_options;
    std::unique_ptr<QWebSocket> m_socket;
    std::unique_ptr<QNetworkAccessManager> m_network; // webhook only
    QMap<QString, QString> m_streamParameters;        // from the webhook's TwiML
    QTimer m_tick;
    QTimer m_guard; // connect timeout, then the close linger
    Phase m_phase = Phase::Idle;
    CallReport m_report;
    QString m_accountSid;

    std::int64_t m_t0Ns = 0;       // first media frame's deadline: sample 0
    std::int64_t m_nextTickNs = 0; // absolute deadline of the next frame
    std::int64_t m_sequence = 0;
    std::int64_t m_chunk = 0;

    // Caller speech.
    int m_utterance = -1; // index being spoken or last spoken
    qsizetype m_utterancePos = 0;
    qsizetype m_lastVoicedFrame = -1; // frame index within the utterance
    std::int64_t m_endOfSpeechNs = 0;
    std::int64_t m_phaseStartNs = 0;

    // Agent audio and its virtual playout.
    std::int64_t m_playoutEndSample = 0;
    std::int64_t m_lastAgentFrameNs = 0;
    std::int64_t m_replyStartNs = 0;
    bool m_agentHeard = false; // any frame in the current greeting/reply
    int m_replyTurn = -1;      // turns[] index the current agent audio answers; -1: greeting
    bool m_bargedInThisReply = false;
    int m_bargeTurn = -1;
    std::int64_t m_bargeInStartNs = 0;
    std::deque<PendingMark> m_pendingMarks;
};

} // namespace apex
