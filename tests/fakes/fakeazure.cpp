#include "fakeazure.h"

#include "audio/g711.h"
#include "audio/resampler.h"
#include "tts/embedded/embeddedsynthesizer.h"

#include <QHostAddress>
#include <QMutex>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>
#include <QXmlStreamReader>
#include <QtEndian>

namespace apex::test {

namespace {

constexpr qsizetype kMaxHeaderBytes = 64 * 1024;
constexpr qsizetype kMaxBodyBytes = 1024 * 1024;
const QString kSynthesisNamespace = QStringLiteral("http://www.w3.org/2001/10/synthesis");

// The fake's own table, not the client's parser: a shared parser would hide
// the client's mistakes behind the fake's.
struct FormatSpec
{
    const char *name;
    enum Kind { RawMulaw, RawPcm, RiffMulaw, RiffPcm, Mp3 } kind;
    int rateHz;
    int kbps;
};

const FormatSpec kFormats[] = {
    {"raw-8khz-8bit-mono-mulaw", FormatSpec::RawMulaw, 8000, 0},
    {"raw-8khz-16bit-mono-pcm", FormatSpec::RawPcm, 8000, 0},
    {"raw-16khz-16bit-mono-pcm", FormatSpec::RawPcm, 16000, 0},
    {"raw-24khz-16bit-mono-pcm", FormatSpec::RawPcm, 24000, 0},
    {"raw-48khz-16bit-mono-pcm", FormatSpec::RawPcm, 48000, 0},
    {"riff-8khz-8bit-mono-mulaw", FormatSpec::RiffMulaw, 8000, 0},
    {"riff-8khz-16bit-mono-pcm", FormatSpec::RiffPcm, 8000, 0},
    {"riff-16khz-16bit-mono-pcm", FormatSpec::RiffPcm, 16000, 0},
    {"riff-24khz-16bit-mono-pcm", FormatSpec::RiffPcm, 24000, 0},
    {"audio-16khz-32kbitrate-mono-mp3", FormatSpec::Mp3, 16000, 32},
    {"audio-16khz-64kbitrate-mono-mp3", FormatSpec::Mp3, 16000, 64},
    {"audio-16khz-128kbitrate-mono-mp3", FormatSpec::Mp3, 16000, 128},
    {"audio-24khz-48kbitrate-mono-mp3", FormatSpec::Mp3, 24000, 48},
    {"audio-24khz-96kbitrate-mono-mp3", FormatSpec::Mp3, 24000, 96},
    {"audio-48khz-96kbitrate-mono-mp3", FormatSpec::Mp3, 48000, 96},
};

const FormatSpec *findFormat(const QString &name)
{
    for (const FormatSpec &f : kFormats) {
        if (name.compare(QLatin1String(f.name), Qt::CaseInsensitive) == 0)
            return &f;
    }
    return nullptr;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

// What Azure's front door puts in an error body (or close to it).
QByteArray errorBody(int status)
{
    switch (status) {
    case 401:
        return R"({"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}})";
    case 429:
        return R"({"error":{"code":"429","message":"Too many requests."}})";
    default:
        return {};
    }
}

void appendLe16(QByteArray &out, quint16 v)
{
    char b[2];
    qToLittleEndian(v, b);
    out.append(b, 2);
}

void appendLe32(QByteArray &out, quint32 v)
{
    char b[4];
    qToLittleEndian(v, b);
    out.append(b, 4);
}

QByteArray pcmBytes(const QVector<std::int16_t> &pcm)
{
    QByteArray out;
    out.reserve(pcm.size() * 2);
    for (const std::int16_t s : pcm)
        appendLe16(out, quint16(s));
    return out;
}

// 44-byte PCM header, or, for mu-law, an 18-byte fmt chunk plus a fact chunk
// as WAVE_FORMAT_MULAW files carry: the client must walk chunks, not assume 44.
QByteArray wavFile(const QByteArray &data, bool mulaw, int rateHz)
{
    QByteArray fmt;
    appendLe16(fmt, mulaw ? 7 : 1);
    appendLe16(fmt, 1);
    appendLe32(fmt, quint32(rateHz));
    appendLe32(fmt, quint32(rateHz * (mulaw ? 1 : 2)));
    appendLe16(fmt, mulaw ? 1 : 2);
    appendLe16(fmt, mulaw ? 8 : 16);
    if (mulaw)
        appendLe16(fmt, 0); // cbSize
    QByteArray chunks = "WAVE";
    chunks += "fmt ";
    appendLe32(chunks, quint32(fmt.size()));
    chunks += fmt;
    if (mulaw) {
        chunks += "fact";
        appendLe32(chunks, 4);
        appendLe32(chunks, quint32(data.size()));
    }
    chunks += "data";
    appendLe32(chunks, quint32(data.size()));
    chunks += data;
    if (data.size() % 2)
        chunks += '\0';
    QByteArray file = "RIFF";
    appendLe32(file, quint32(chunks.size()));
    return file + chunks;
}

QVector<std::int16_t> pcmAt(const QByteArray &mulaw, int rateHz)
{
    const QVector<std::int16_t> pcm8k = audio::g711::decodeMulaw(mulaw);
    if (rateHz == 8000)
        return pcm8k;
    return audio::Resampler::convert(pcm8k, 8000, rateHz);
}

void parseSsml(FakeAzure::Request &r)
{
    QXmlStreamReader xml(r.body);
    int voiceDepth = 0;
    bool sawRoot = false;
    while (!xml.atEnd()) {
        switch (xml.readNext()) {
        case QXmlStreamReader::DTD:
            // Azure's SSML has no use for a DTD, and it is where entity injection lives.
            r.ssmlError = QStringLiteral("DTD not allowed");
            return;
        case QXmlStreamReader::EntityReference:
            r.ssmlError = QStringLiteral("undeclared entity %1").arg(xml.name());
            return;
        case QXmlStreamReader::StartElement: {
            const QString name = xml.name().toString();
            r.elements << name;
            if (!sawRoot) {
                sawRoot = true;
                if (name != QLatin1String("speak")) {
                    r.ssmlError = QStringLiteral("root element is <%1>, not <speak>").arg(name);
                    return;
                }
                r.speakVersion = xml.attributes().value(QLatin1String("version")).toString();
                r.speakNamespace = xml.namespaceUri().toString();
                r.speakLang = xml.attributes().value(QLatin1String("xml:lang")).toString();
            } else if (name == QLatin1String("voice")) {
                if (r.voiceCount++ == 0) {
                    r.voice = xml.attributes().value(QLatin1String("name")).toString();
                    r.voiceLang = xml.attributes().value(QLatin1String("xml:lang")).toString();
                }
                ++voiceDepth;
            }
            break;
        }
        case QXmlStreamReader::EndElement:
            if (xml.name() == QLatin1String("voice"))
                --voiceDepth;
            break;
        case QXmlStreamReader::Characters:
            if (voiceDepth > 0)
                r.text += xml.text();
            else if (!xml.isWhitespace())
                r.ssmlError = QStringLiteral("text outside <voice>");
            break;
        default:
            break;
        }
    }
    if (xml.hasError()) {
        r.ssmlError = xml.errorString();
        return;
    }
    if (!r.ssmlError.isEmpty())
        return;
    if (r.speakNamespace != kSynthesisNamespace || r.speakVersion != QLatin1String("1.0"))
        r.ssmlError = QStringLiteral("<speak> needs version=\"1.0\" and xmlns=\"%1\"").arg(kSynthesisNamespace);
    else if (r.speakLang.isEmpty())
        r.ssmlError = QStringLiteral("<speak> needs xml:lang");
    else if (r.voiceCount == 0 || r.voice.isEmpty())
        r.ssmlError = QStringLiteral("no <voice name=...>");
    else if (r.voiceCount > 50)
        r.ssmlError = QStringLiteral("more than 50 <voice> elements");
    r.ssmlValid = r.ssmlError.isEmpty();
}

} // namespace

struct FakeAzure::Connection
{
    QTcpSocket *socket = nullptr;
    QByteArray buffer;
    bool busy = false;      // a response is being written
    int index = -1;         // its request
    QByteArray body;        // its body
    qint64 sent = 0;
    bool chunked = false;
    bool held = false;
};

FakeAzure::FakeAzure(QObject *parent)
    : QObject(parent)
    , m_embedded(std::make_unique<EmbeddedSynthesizer>())
{
    connect(&m_server, &QTcpServer::newConnection, this, &FakeAzure::onNewConnection);
}

FakeAzure::~FakeAzure()
{
    for (auto &[socket, c] : m_connections) {
        socket->disconnect(this);
        socket->abort();
        delete socket;
    }
}

bool FakeAzure::listen(quint16 port)
{
    return m_server.listen(QHostAddress::LocalHost, port);
}

quint16 FakeAzure::port() const
{
    return m_server.serverPort();
}

QUrl FakeAzure::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/cognitiveservices/v1").arg(port()));
}

QStringList FakeAzure::outputFormats()
{
    QStringList names;
    for (const FormatSpec &f : kFormats)
        names << QLatin1String(f.name);
    return names;
}

qint64 FakeAzure::unsentBodyBytes() const
{
    qint64 unsent = 0;
    for (const auto &[socket, c] : m_connections) {
        if (c->busy)
            unsent += c->body.size() - c->sent;
    }
    return unsent;
}

void FakeAzure::release()
{
    m_released = true;
    for (auto &[socket, c] : m_connections) {
        if (c->busy && c->held) {
            c->held = false;
            QTimer::singleShot(0, socket, [this, s = socket] { pump(s); });
        }
    }
}

QByteArray FakeAzure::speech(const QString &locale, const QString &text)
{
    // Process-wide: synthesis blocks this thread for a while, and a suite
    // that makes a fake per test function asks for the same sentences again.
    static QMutex cacheMutex;
    static QHash<QString, QByteArray> cache;
    const QString key = locale + QLatin1Char('\n') + text;
    {
        const QMutexLocker lock(&cacheMutex);
        if (const auto it = cache.constFind(key); it != cache.constEnd())
            return *it;
    }
    SynthesisRequest request;
    request.text = text;
    if (locale.startsWith(QLatin1String("en"), Qt::CaseInsensitive)) {
        request.language = QStringLiteral("en");
        request.voice = QStringLiteral("slt");
    } else {
        request.language = locale; // espeak-ng: "hi-IN" falls back to "hi"
    }
    QString error;
    const QByteArray mulaw = EmbeddedSynthesizer::synthesizeBlocking(request, &error);
    if (!mulaw.isEmpty()) {
        const QMutexLocker lock(&cacheMutex);
        cache.insert(key, mulaw);
    }
    else
        qWarning("FakeAzure: synthesis failed for %s: %s", qPrintable(locale), qPrintable(error));
    return mulaw;
}

QByteArray FakeAzure::render(const QString &format, const QString &locale, const QString &text, QString *error)
{
    const FormatSpec *spec = findFormat(format);
    if (!spec) {
        *error = QStringLiteral("unsupported output format");
        return {};
    }
    if (spec->kind == FormatSpec::Mp3 && !m_options.mp3Encoder) {
        *error = QStringLiteral("the fake has no MP3 encoder (Options::mp3Encoder)");
        return {};
    }
    const QByteArray mulaw = m_options.speak ? m_options.speak(locale, text) : speech(locale, text);
    if (mulaw.isEmpty()) {
        *error = QStringLiteral("synthesis failed");
        return {};
    }
    switch (spec->kind) {
    case FormatSpec::RawMulaw: return mulaw;
    case FormatSpec::RawPcm: return pcmBytes(pcmAt(mulaw, spec->rateHz));
    case FormatSpec::RiffMulaw: return wavFile(mulaw, true, 8000);
    case FormatSpec::RiffPcm: return wavFile(pcmBytes(pcmAt(mulaw, spec->rateHz)), false, spec->rateHz);
    case FormatSpec::Mp3: return m_options.mp3Encoder(pcmAt(mulaw, spec->rateHz), spec->rateHz, spec->kbps);
    }
    return {};
}

FakeAzure::Connection *FakeAzure::connectionFor(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    return it == m_connections.end() ? nullptr : it->second.get();
}

void FakeAzure::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        ++m_connectionCount;
        // Paced chunks must leave when written, not when Nagle and delayed ACKs allow.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto c = std::make_unique<Connection>();
        c->socket = socket;
        m_connections.emplace(socket, std::move(c));
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_connections.erase(socket);
            socket->deleteLater();
        });
    }
}

void FakeAzure::onReadyRead(QTcpSocket *socket)
{
    Connection *c = connectionFor(socket);
    if (!c)
        return;
    c->buffer += socket->readAll();
    if (!c->busy)
        parseNext(*c);
}

void FakeAzure::parseNext(Connection &c)
{
    const qsizetype headerEnd = c.buffer.indexOf("\r\n\r\n");
    if (headerEnd < 0) {
        if (c.buffer.size() > kMaxHeaderBytes)
            c.socket->disconnectFromHost();
        return;
    }
    const QList<QByteArray> lines = c.buffer.left(headerEnd).split('\n');
    Request r;
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    r.method = requestLine.value(0);
    r.path = requestLine.value(1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
    }
    bool ok = true;
    const qint64 length = r.headers.value("content-length", "0").toLongLong(&ok);
    if (!ok || length < 0 || length > kMaxBodyBytes) {
        c.socket->disconnectFromHost();
        return;
    }
    if (c.buffer.size() < headerEnd + 4 + length)
        return; // the rest of the body is still coming
    r.body = c.buffer.mid(headerEnd + 4, length);
    c.buffer.remove(0, headerEnd + 4 + length);
    handleRequest(c, std::move(r));
}

void FakeAzure::handleRequest(Connection &c, Request r)
{
    r.outputFormat = QString::fromLatin1(r.header("x-microsoft-outputformat"));
    parseSsml(r);
    const int index = int(m_requests.size());
    m_requests.append(r);
    c.busy = true;
    c.index = index;
    c.sent = 0;
    c.held = false;
    c.body.clear();
    Q_EMIT requestReceived(index);

    if (r.path.split('?').value(0) != "/cognitiveservices/v1")
        return sendError(c, index, 404, {});
    if (r.method != "POST")
        return sendError(c, index, 405, {});
    const QByteArray key = r.header("ocp-apim-subscription-key");
    const QByteArray auth = r.header("authorization");
    const bool keyOk = !key.isEmpty() && key == m_options.key.toUtf8();
    const bool tokenOk = !auth.isEmpty() && auth == "Bearer " + m_options.bearerToken.toUtf8();
    if (!keyOk && !tokenOk)
        return sendError(c, index, 401, errorBody(401));
    if (r.header("content-type").split(';').value(0).trimmed().toLower() != "application/ssml+xml")
        return sendError(c, index, 415, {});
    if (r.header("user-agent").isEmpty())
        return sendError(c, index, 400, "User-Agent header is required");
    if (!findFormat(r.outputFormat))
        return sendError(c, index, 400, "Unsupported X-Microsoft-OutputFormat");
    if (!r.ssmlValid)
        return sendError(c, index, 400, "Invalid SSML: " + r.ssmlError.toUtf8());
    if (m_faults.status != 0)
        return sendError(c, index, m_faults.status, errorBody(m_faults.status));

    QString locale = r.voiceLang;
    if (locale.isEmpty())
        locale = r.speakLang;
    QString error;
    const QByteArray audio = render(r.outputFormat, locale, r.text, &error);
    if (audio.isEmpty())
        return sendError(c, index, 400, error.toUtf8());
    m_requests[index].audio = audio;
    c.body = audio;
    c.chunked = m_options.chunkBytes > 0;

    if (m_faults.stallBeforeHeaders)
        return;
    const QPointer<QTcpSocket> socket = c.socket;
    QTimer::singleShot(std::max(0, m_options.firstByteLatencyMs), c.socket, [this, socket, index] {
        Connection *conn = connectionFor(socket);
        if (!conn || conn->index != index)
            return;
        sendHeaders(*conn, index);
        pump(socket);
    });
}

void FakeAzure::sendError(Connection &c, int index, int status, const QByteArray &body)
{
    const QPointer<QTcpSocket> socket = c.socket;
    QTimer::singleShot(std::max(0, m_options.firstByteLatencyMs), c.socket, [this, socket, index, status, body] {
        Connection *conn = connectionFor(socket);
        if (!conn || conn->index != index)
            return;
        QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
        head += "Content-Type: " + QByteArray(body.startsWith('{') ? "application/json" : "text/plain") + "\r\n";
        head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        head += "X-RequestId: fake-" + QByteArray::number(index) + "\r\n\r\n";
        conn->socket->write(head + body);
        m_requests[index].status = status;
        finishResponse(*conn);
    });
}

void FakeAzure::sendHeaders(Connection &c, int index)
{
    QByteArray head = "HTTP/1.1 200 OK\r\n";
    const QString &format = m_requests[index].outputFormat;
    const QByteArray type = format.startsWith(QLatin1String("riff")) ? "audio/x-wav"
                          : format.endsWith(QLatin1String("mp3"))    ? "audio/mpeg"
                                                                     : "audio/basic";
    head += "Content-Type: " + type + "\r\n";
    if (c.chunked)
        head += "Transfer-Encoding: chunked\r\n";
    else
        head += "Content-Length: " + QByteArray::number(c.body.size()) + "\r\n";
    head += "X-RequestId: fake-" + QByteArray::number(index) + "\r\n\r\n";
    c.socket->write(head);
    m_requests[index].status = 200;
}

void FakeAzure::pump(QTcpSocket *socket)
{
    Connection *found = connectionFor(socket);
    if (!found || !found->busy || found->held)
        return;
    Connection &c = *found;
    const int index = c.index;
    const qint64 total = c.body.size();

    // How far this response may go now: the next stop is the nearest of a
    // fault's byte offset, the hold point and the end.
    qint64 stop = total;
    if (m_faults.stallAfterBytes >= 0)
        stop = std::min(stop, m_faults.stallAfterBytes);
    if (m_faults.closeAfterBytes >= 0)
        stop = std::min(stop, m_faults.closeAfterBytes);
    const bool holding = m_options.holdAfterBytes >= 0 && !m_released && c.sent <= m_options.holdAfterBytes;
    if (holding)
        stop = std::min(stop, m_options.holdAfterBytes);

    // Unpaced chunks go out in one pass: they differ only in framing, and a
    // zero-delay timer per chunk would be paced by the test's event loop instead.
    const bool paced = c.chunked && m_options.chunkIntervalMs > 0;
    while (c.sent < stop) {
        const qint64 n = c.chunked ? std::min<qint64>(m_options.chunkBytes, stop - c.sent) : stop - c.sent;
        const QByteArray piece = c.body.mid(c.sent, n);
        if (c.chunked)
            socket->write(QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n");
        else
            socket->write(piece);
        c.sent += n;
        m_requests[index].bodyBytesSent = c.sent;
        Q_EMIT bodyBytesWritten(index, c.sent, total);
        if (!connectionFor(socket))
            return;
        if (paced)
            break;
    }

    if (c.sent == total) {
        if (c.chunked)
            socket->write("0\r\n\r\n");
        m_requests[index].complete = true;
        finishResponse(c);
        return;
    }
    if (c.sent == m_faults.closeAfterBytes) {
        socket->disconnectFromHost(); // writes what is buffered, then FIN: a body cut short
        return;
    }
    if (c.sent == m_faults.stallAfterBytes)
        return; // silence on an open socket
    if (holding && c.sent == m_options.holdAfterBytes) {
        c.held = true;
        Q_EMIT held(index);
        return;
    }
    QTimer::singleShot(m_options.chunkIntervalMs, socket, [this, socket] { pump(socket); });
}

void FakeAzure::finishResponse(Connection &c)
{
    const int index = c.index;
    c.busy = false;
    c.body.clear();
    c.sent = 0;
    c.index = -1;
    QTcpSocket *socket = c.socket;
    Q_EMIT responseFinished(index);
    // Keep-alive: a request already buffered on this connection is next.
    if (Connection *still = connectionFor(socket); still && !still->busy && !still->buffer.isEmpty())
        parseNext(*still);
}

} // namespace apex::test
