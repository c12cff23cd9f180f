#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTcpServer>
#include <QUrl>
#include <QVector>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

class QTcpSocket;

namespace apex {
class EmbeddedSynthesizer;
}

namespace apex::test {

// Azure AI Speech TTS (POST /cognitiveservices/v1, protocols.md §5) as a real
// HTTP/1.1 server on 127.0.0.1, for tests.
//
// A QTcpServer with a minimal HTTP handler rather than QHttpServer: Qt 6.4's
// server cannot pace a chunked body, stall it or cut it mid-way, and those are
// the behaviours a phone agent must survive. Connections are kept alive, as
// Azure's are, so a client's connection reuse is exercised too.
//
// Checks what Azure checks (key or bearer token, Content-Type, output format,
// User-Agent, well-formed SSML) and answers as Azure does (401, 415, 400). The
// speech is real: the SSML text is spoken by the embedded synthesiser (flite
// for English voices, espeak-ng for the voice's language otherwise) and served
// in the requested format. MP3 needs an encoder this library does not link:
// a test that has one (lame) sets Options::mp3Encoder; without it MP3 formats
// are answered 400.
class FakeAzure : public QObject
{
    Q_OBJECT
public:
    // 16-bit mono PCM at sampleRateHz to an MP3 byte stream at kbps.
    using Mp3Encoder = std::function<QByteArray(const QVector<std::int16_t> &pcm, int sampleRateHz, int kbps)>;

    struct Options
    {
        QString key = QStringLiteral("test-key");          // Ocp-Apim-Subscription-Key
        QString bearerToken = QStringLiteral("test-token"); // or Authorization: Bearer
        int firstByteLatencyMs = 0; // whole request read -> response headers
        int chunkBytes = 0;         // >0: Transfer-Encoding: chunked, this many body bytes a chunk; 0: Content-Length, one write
        int chunkIntervalMs = 0;    // pause between chunks
        qint64 holdAfterBytes = -1; // >=0: a 200 body pauses after this many bytes until release()
        Mp3Encoder mp3Encoder;
        // Set: the 8 kHz mu-law for (locale, text) instead of speech() (load runs: no synthesis per request).
        std::function<QByteArray(const QString &locale, const QString &text)> speak;
    };

    // Applied to requests that pass the checks, instead of or during the 200.
    struct Faults
    {
        int status = 0;               // answer with this status (400, 401, 429, 500, 503, ...) and Azure's kind of body
        bool stallBeforeHeaders = false; // read the request and never answer
        qint64 stallAfterBytes = -1;  // send headers and this many body bytes, then nothing (socket stays open)
        qint64 closeAfterBytes = -1;  // send headers and this many body bytes, then close the connection
    };

    // One request as the fake saw it, and what it answered.
    struct Request
    {
        QByteArray method;
        QByteArray path;
        QHash<QByteArray, QByteArray> headers; // names lower-case
        QByteArray body;                       // the SSML as sent
        // The SSML, parsed with QXmlStreamReader.
        bool ssmlValid = false;
        QString ssmlError;
        QStringList elements;   // every element's local name, in document order
        QString speakVersion;   // <speak version>
        QString speakNamespace; // <speak>'s namespace URI
        QString speakLang;      // <speak xml:lang>
        QString voice;          // <voice name> (the first)
        QString voiceLang;      // <voice xml:lang>, if any
        QString text;           // all character data inside <voice> elements, concatenated
        int voiceCount = 0;
        QString outputFormat;   // X-Microsoft-OutputFormat
        // The answer.
        int status = 0;          // 0 until headers went out (stays 0 when stalled before them)
        QByteArray audio;        // a 200's body as served (header included for riff)
        qint64 bodyBytesSent = 0;
        bool complete = false;   // the whole response was written

        QByteArray header(const QByteArray &lowerCaseName) const { return headers.value(lowerCaseName); }
    };

    explicit FakeAzure(QObject *parent = nullptr);
    ~FakeAzure() override;

    bool listen(quint16 port = 0);
    quint16 port() const;
    QUrl url() const; // http://127.0.0.1:<port>/cognitiveservices/v1

    void setOptions(const Options &options) { m_options = options; }
    const Options &options() const { return m_options; }
    void setFaults(const Faults &faults) { m_faults = faults; }
    const Faults &faults() const { return m_faults; }

    const QList<Request> &requests() const { return m_requests; }
    int requestCount() const { return int(m_requests.size()); }
    int connectionCount() const { return m_connectionCount; } // accepted TCP connections so far
    int openConnectionCount() const { return int(m_connections.size()); }

    // Body bytes of responses in progress not yet written: a client that has
    // audio while this is above zero got it before the body was complete.
    qint64 unsentBodyBytes() const;
    // Resumes every response paused by holdAfterBytes; later ones do not pause.
    void release();

    // The 8 kHz mu-law the fake speaks for text in an Azure locale ("en-US",
    // "hi-IN"), cached per (locale, text). What a 200 to
    // raw-8khz-8bit-mono-mulaw carries. Empty if synthesis failed. Blocks
    // while the embedded engine speaks; call it before a timing-sensitive
    // request so the response does not wait for synthesis.
    QByteArray speech(const QString &locale, const QString &text);
    // Output formats the fake produces (MP3 ones need an encoder).
    static QStringList outputFormats();

Q_SIGNALS:
    void requestReceived(int index);
    void bodyBytesWritten(int index, qint64 sent, qint64 total);
    void held(int index); // paused by holdAfterBytes
    void responseFinished(int index);

private:
    struct Connection;

    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void parseNext(Connection &c);
    void handleRequest(Connection &c, Request request);
    void sendError(Connection &c, int index, int status, const QByteArray &body);
    void sendHeaders(Connection &c, int index);
    void pump(QTcpSocket *socket);
    void finishResponse(Connection &c);
    QByteArray render(const QString &format, const QString &locale, const QString &text, QString *error);
    Connection *connectionFor(QTcpSocket *socket);

    Options m_options;
    Faults m_faults;
    QTcpServer m_server;
    QList<Request> m_requests;
    std::map<QTcpSocket *, std::unique_ptr<Connection>> m_connections;
    std::unique_ptr<EmbeddedSynthesizer> m_embedded; // keeps flite/espeak-ng threads alive between requests
    int m_connectionCount = 0;
    bool m_released = false;
};

} // namespace apex::test
