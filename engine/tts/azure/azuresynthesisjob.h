#pragma once

#include "tts/azure/azureaudiodecoder.h"
#include "tts/speechsynthesizer.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

class QNetworkReply;

namespace apex {

// One sentence on its way from Azure: owns the HTTP reply, turns the body into
// 8 kHz mu-law as it arrives and emits it in whole 20 ms frames (the remainder
// with the last chunk), so the first frame can play while Azure still speaks.
//
// Contract beyond SynthesisJob's: exactly one of finished/failed, always from
// the event loop (never inside synthesize()); after cancel(), deletion, or the
// end, no signal at all; a slot may cancel or delete the job from any of its
// signals. A failure after some audio still ends in failed(): the sentence is
// incomplete and the fallback chain decides what the caller hears.
class AzureSynthesisJob : public SynthesisJob
{
    Q_OBJECT
public:
    // Stable codes for the breaker and metrics; failed() carries the words.
    enum class Failure {
        None,
        NotConfigured,
        BadRequest,           // 400
        Unauthorized,         // 401 (or 403)
        UnsupportedMediaType, // 415
        RateLimited,          // 429
        ServerError,          // 5xx
        HttpError,            // any other non-200 status
        Timeout,              // no byte for requestTimeoutMs
        Network,              // no HTTP status: refused, reset, TLS, DNS
        Truncated,            // connection lost after a 200 began
        Decode,               // the body is not the audio the format promised
    };

    static constexpr int kFrameBytes = 160; // 20 ms of 8 kHz mu-law

    AzureSynthesisJob(const QString &outputFormat, int requestTimeoutMs, QObject *parent);
    ~AzureSynthesisJob() override;

    // Takes the reply over (it stays a child of its QNetworkAccessManager, which
    // lives on this thread) and starts the idle deadline.
    void start(QNetworkReply *reply);
    // Ends without audio / with a failure on the next event loop pass, so the
    // caller can connect first.
    void finishEmpty();
    void failLater(Failure failure, const QString &reason);
    // Whose sentence this is, for log lines.
    void setTenant(const QString &tenantId) { m_tenantId = tenantId; }

    void cancel() override;

    Failure failure() const { return m_failure; }
    ProviderFailure providerFailure() const override;
    int httpStatus() const { return m_httpStatus; }  // 0 until response headers arrived
    qint64 firstAudioMs() const { return m_firstAudioMs; } // start() to the first audio(); -1 none yet
    qint64 audioBytes() const { return m_audioBytes; }     // mu-law bytes emitted

private:
    void onMetaData();
    void onReadyRead();
    void onReplyFinished();
    void onTimeout();
    enum class Flush { WholeFrames, Everything };
    bool emitAudio(const QByteArray &mulaw, Flush flush); // false: cancelled or deleted from a slot
    void complete();
    void fail(Failure failure, const QString &reason);
    void releaseReply();
    QString httpFailureReason(int status) const;

    AzureAudioDecoder m_decoder;
    QPointer<QNetworkReply> m_reply;
    QTimer m_idleTimer;
    QElapsedTimer m_clock;
    QByteArray m_pending;   // mu-law not yet a whole frame
    QByteArray m_errorBody; // non-200 bodies, bounded
    QString m_tenantId;
    Failure m_failure = Failure::None;
    int m_requestTimeoutMs;
    int m_httpStatus = 0;
    qint64 m_firstAudioMs = -1;
    qint64 m_audioBytes = 0;
    qint64 m_bodyBytes = 0;
    bool m_done = false;
};

} // namespace apex
