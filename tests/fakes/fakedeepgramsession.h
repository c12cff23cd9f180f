#pragma once

#include "audio/vad.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <QVector>

#include <cstdint>
#include <span>

class QWebSocket;

namespace apex::test {

class FakeDeepgram;

// One accepted /v1/listen connection of FakeDeepgram: decodes the audio, runs
// the VAD, and speaks Deepgram's side of the protocol. Deletes itself when the
// socket disconnects. All times are seconds of audio received on this connection.
class FakeDeepgramSession : public QObject
{
    Q_OBJECT
public:
    FakeDeepgramSession(FakeDeepgram *server, QWebSocket *socket, int index, bool dropFault);
    ~FakeDeepgramSession() override;

private:
    void onBinary(const QByteArray &bytes);
    void onText(const QString &message);
    void onDisconnected();
    void processFrame(std::span<const std::int16_t> frame);
    void sendInterim(double now);
    void sendPauseInterim(double now);
    void sendSegmentFinal(double now);
    void endTurn(double now, double speechEnd);
    void flush(bool fromFinalize);
    int revealedWords(double now) const;
    QJsonArray words(const QStringList &text, double start, double end) const;
    void sendResults(const QStringList &text, double windowEnd, double wordsEnd, bool isFinal, bool speechFinal,
                     bool fromFinalize);
    void send(const QJsonObject &message);
    void closeWith(int code, const QString &reason);
    void drop();

    FakeDeepgram *m_server;
    QWebSocket *m_socket;
    const int m_index;
    const bool m_dropFault;

    int m_sampleRate = 8000;
    bool m_linear16 = false;
    bool m_decodable = true;
    int m_utteranceEndMs = 0; // 0: no UtteranceEnd (needs interim_results=true)
    bool m_interimResults = false;
    bool m_vadEvents = false;
    bool m_endpointing = true;
    int m_vadEndpointingMs = 10;

    audio::VoiceActivityDetector m_vad;
    audio::VoiceActivityDetector m_pauseVad; // the same VAD with pauseInterimMs for its endpointing
    bool m_pauseInterims = false;
    int m_phrase = 0;             // the script's "|"-separated phrase being spoken
    double m_pauseStart = -1.0;   // the caller's silence began here (pause VAD), -1: talking
    int m_revealedFloor = 0; // words a pause interim showed: later interims never show fewer
    QByteArray m_carryBytes;       // a partial sample or frame carried to the next message
    QVector<std::int16_t> m_frame;
    qint64 m_samples = 0;          // decoded and processed
    bool m_inSpeech = false;
    double m_windowStart = 0.0;    // end of the last is_final window
    double m_wordsStart = 0.0;     // where the words not yet final begin
    double m_speechStart = 0.0;
    double m_nextInterim = 0.0;
    double m_nextSegment = 0.0;
    double m_utteranceEndDue = -1.0;
    double m_lastWordEnd = -1.0;
    int m_turnsEnded = 0;
    bool m_closing = false;
    QTimer m_idle;
};

} // namespace apex::test
