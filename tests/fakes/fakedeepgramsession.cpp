#include "fakedeepgramsession.h"

#include "audio/g711.h"
#include "fakedeepgram.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QUrlQuery>
#include <QUuid>
#include <QWebSocket>
#include <QtEndian>

#include <algorithm>
#include <cmath>

namespace apex::test {

namespace {

constexpr double kOnsetSec = 0.06;      // the VAD's onset run, credited back to the speech start
constexpr double kEmptyFinalEverySec = 3.0; // Deepgram finalises silent windows with empty results
constexpr double kPhrasePauseSec = 0.2;     // a pause at least this long ends a scripted "|" phrase

double rounded(double seconds)
{
    return std::round(seconds * 1000.0) / 1000.0;
}

} // namespace

FakeDeepgramSession::FakeDeepgramSession(FakeDeepgram *server, QWebSocket *socket, int index, bool dropFault)
    : QObject(server)
    , m_server(server)
    , m_socket(socket)
    , m_index(index)
    , m_dropFault(dropFault)
{
    socket->setParent(this);
    const QUrlQuery &query = server->record(index).query;
    const auto value = [&query](const char *key) { return query.queryItemValue(QLatin1String(key)); };

    m_sampleRate = value("sample_rate").isEmpty() ? 8000 : value("sample_rate").toInt();
    const QString encoding = value("encoding");
    m_linear16 = encoding == QLatin1String("linear16");
    m_decodable = m_sampleRate > 0 && (m_linear16 || encoding == QLatin1String("mulaw"));
    m_interimResults = value("interim_results") == QLatin1String("true");
    m_vadEvents = value("vad_events") == QLatin1String("true");
    if (m_interimResults)
        m_utteranceEndMs = value("utterance_end_ms").toInt();

    audio::VoiceActivityDetector::Settings vad;
    const QString endpointing = value("endpointing");
    m_endpointing = endpointing != QLatin1String("false");
    // Deepgram's default endpointing is 10 ms; without endpointing the VAD still
    // needs some silence to end a span.
    vad.endpointingMs = !m_endpointing ? 1000 : endpointing.isEmpty() ? 10 : std::max(10, endpointing.toInt());
    m_vad = audio::VoiceActivityDetector(vad);
    m_vadEndpointingMs = vad.endpointingMs;
    const int pauseMs = server->options().pauseInterimMs;
    if (m_interimResults && m_endpointing && pauseMs > 0 && pauseMs < m_vadEndpointingMs) {
        audio::VoiceActivityDetector::Settings pause = vad;
        pause.endpointingMs = pauseMs;
        m_pauseVad = audio::VoiceActivityDetector(pause);
        m_pauseInterims = true;
    }

    connect(socket, &QWebSocket::binaryMessageReceived, this, &FakeDeepgramSession::onBinary);
    connect(socket, &QWebSocket::textMessageReceived, this, &FakeDeepgramSession::onText);
    connect(socket, &QWebSocket::disconnected, this, &FakeDeepgramSession::onDisconnected);

    if (m_dropFault && m_server->faults().dropAfterMs > 0) {
        QTimer::singleShot(m_server->faults().dropAfterMs, this, [this] {
            if (m_server->faults().dropAfterMs > 0)
                drop();
        });
    }
    if (m_dropFault && m_server->faults().closeAfterMs > 0) {
        QTimer::singleShot(m_server->faults().closeAfterMs, this, [this] {
            const int code = m_server->faults().closeCode;
            if (m_server->faults().closeAfterMs <= 0)
                return;
            closeWith(code, code == 1011 ? QStringLiteral("NET-0000: The service has not transmitted a Text frame to the client "
                                                          "within the timeout window. This may indicate an internal issue with "
                                                          "Deepgram's systems, or a network issue.")
                                         : QStringLiteral("Injected close."));
        });
    }

    m_idle.setSingleShot(true);
    connect(&m_idle, &QTimer::timeout, this, [this] {
        closeWith(1011, QStringLiteral("NET-0001: Deepgram did not receive audio data or a text message within the timeout window."));
    });
    m_idle.start(m_server->options().noAudioTimeoutMs);
}

FakeDeepgramSession::~FakeDeepgramSession()
{
    m_socket->disconnect(this);
    m_socket->abort();
}

void FakeDeepgramSession::onBinary(const QByteArray &bytes)
{
    if (m_closing)
        return;
    FakeDeepgram::Connection &record = m_server->record(m_index);
    ++record.binaryFrames;
    if (bytes.isEmpty()) {
        // The legacy close signal: Deepgram flushes and closes.
        ++record.emptyBinaryFrames;
        flush(false);
        closeWith(1000, QString());
        return;
    }
    record.audio.append(bytes);
    m_idle.start(m_server->options().noAudioTimeoutMs);
    if (!m_decodable || m_server->faults().undecodableAudio) {
        closeWith(1008, QStringLiteral("DATA-0000: The payload cannot be decoded as audio. It is either not audio data or is a codec unsupported by Deepgram."));
        return;
    }

    QVector<std::int16_t> pcm;
    if (m_linear16) {
        m_carryBytes.append(bytes);
        const qsizetype samples = m_carryBytes.size() / 2;
        pcm.resize(samples);
        qFromLittleEndian<std::int16_t>(m_carryBytes.constData(), samples, pcm.data());
        m_carryBytes.remove(0, samples * 2);
    } else {
        pcm = audio::g711::decodeMulaw(bytes);
    }
    const qsizetype frameSamples = m_sampleRate / 50;
    for (std::int16_t sample : pcm) {
        m_frame.append(sample);
        if (m_frame.size() == frameSamples) {
            processFrame(m_frame);
            m_frame.clear();
            if (m_closing)
                return;
        }
    }

    const int dropAfterMs = m_server->faults().dropAfterAudioMs;
    if (m_dropFault && dropAfterMs > 0 && m_samples * 1000 >= qint64(dropAfterMs) * m_sampleRate)
        drop();
}

void FakeDeepgramSession::processFrame(std::span<const std::int16_t> frame)
{
    m_samples += qint64(frame.size());
    const double now = double(m_samples) / m_sampleRate;
    const FakeDeepgram::Options &options = m_server->options();
    const auto event = m_vad.push(frame, m_sampleRate);
    if (m_pauseInterims) {
        const auto pause = m_pauseVad.push(frame, m_sampleRate);
        if (pause == audio::VoiceActivityDetector::Event::SpeechEnded && m_inSpeech
            && event == audio::VoiceActivityDetector::Event::None) {
            m_pauseStart = now - options.pauseInterimMs / 1000.0;
            sendPauseInterim(now);
        } else if (pause == audio::VoiceActivityDetector::Event::SpeechStarted && m_inSpeech && m_pauseStart >= 0) {
            // The caller goes on after a pause: a pause longer than a gap
            // between words ends a scripted phrase, and the new words show up
            // in interims soon.
            if (now - kOnsetSec - m_pauseStart >= kPhrasePauseSec)
                ++m_phrase;
            m_pauseStart = -1.0;
            m_nextInterim = std::min(m_nextInterim, now + options.firstInterimMs / 1000.0);
        }
    }

    if (event == audio::VoiceActivityDetector::Event::SpeechStarted) {
        m_inSpeech = true;
        m_speechStart = std::max(m_windowStart, now - kOnsetSec);
        m_wordsStart = m_speechStart;
        m_nextInterim = now + options.firstInterimMs / 1000.0;
        m_nextSegment = now + options.finalSegmentMs / 1000.0;
        m_utteranceEndDue = -1.0; // no word gap of utterance_end_ms: the caller went on
        m_phrase = 0;
        m_pauseStart = -1.0;
        m_revealedFloor = 0;
        if (m_vadEvents)
            send({{QStringLiteral("type"), QStringLiteral("SpeechStarted")},
                  {QStringLiteral("channel"), QJsonArray{0, 1}},
                  {QStringLiteral("timestamp"), rounded(m_speechStart)}});
    } else if (event == audio::VoiceActivityDetector::Event::SpeechEnded) {
        endTurn(now, now - m_vadEndpointingMs / 1000.0);
        return;
    }

    if (m_inSpeech) {
        if (m_interimResults && now >= m_nextInterim) {
            sendInterim(now);
            m_nextInterim += options.interimIntervalMs / 1000.0;
        }
        if (options.finalSegmentMs > 0 && now >= m_nextSegment) {
            sendSegmentFinal(now);
            m_nextSegment += options.finalSegmentMs / 1000.0;
        }
    } else if (now - m_windowStart >= kEmptyFinalEverySec) {
        sendResults({}, now, now, true, false, false);
    }

    if (m_utteranceEndDue >= 0 && now >= m_utteranceEndDue) {
        m_utteranceEndDue = -1.0;
        send({{QStringLiteral("type"), QStringLiteral("UtteranceEnd")},
              {QStringLiteral("channel"), QJsonArray{0, 1}},
              {QStringLiteral("last_word_end"), rounded(m_lastWordEnd)}});
    }
}

int FakeDeepgramSession::revealedWords(double now) const
{
    const QStringList *utterance = m_server->currentUtterance();
    if (!utterance || utterance->isEmpty())
        return 0;
    const double spoken = now - m_wordsStart;
    const int words = int(std::ceil(spoken * m_server->options().wordsPerSecond));
    // The last word is only given by the final result or an interim after a pause.
    return std::max(m_revealedFloor, std::clamp(words, 1, std::max(1, int(utterance->size()) - 1)));
}

void FakeDeepgramSession::sendInterim(double now)
{
    const QStringList *utterance = m_server->currentUtterance();
    const QStringList text = utterance ? utterance->mid(0, revealedWords(now)) : QStringList();
    sendResults(text, now, now, false, false, false);
}

void FakeDeepgramSession::sendPauseInterim(double now)
{
    const QStringList *utterance = m_server->currentUtterance();
    if (!utterance || utterance->isEmpty())
        return;
    qsizetype end = utterance->size();
    int markers = 0;
    for (qsizetype i = 0; i < utterance->size(); ++i) {
        if (utterance->at(i) == QLatin1String("|") && ++markers > m_phrase) {
            end = i;
            break;
        }
    }
    m_revealedFloor = std::max(m_revealedFloor, int(end));
    sendResults(utterance->mid(0, end), now, now, false, false, false);
}

void FakeDeepgramSession::sendSegmentFinal(double now)
{
    QStringList *utterance = m_server->currentUtterance();
    if (!utterance || utterance->size() < 2)
        return;
    const int count = revealedWords(now);
    const QStringList text = utterance->mid(0, count);
    sendResults(text, now, now, true, false, false);
    utterance->remove(0, count);
    m_revealedFloor = std::max(0, m_revealedFloor - count);
    m_wordsStart = now;
}

void FakeDeepgramSession::endTurn(double now, double speechEnd)
{
    m_inSpeech = false;
    m_phrase = 0;
    m_pauseStart = -1.0;
    m_revealedFloor = 0;
    const QStringList *utterance = m_server->currentUtterance();
    const QStringList text = utterance ? *utterance : QStringList();
    const bool speechFinal = m_endpointing && m_server->options().sendSpeechFinal;
    sendResults(text, now, speechEnd, true, speechFinal, false);
    m_server->finishUtterance();
    if (!text.isEmpty()) {
        m_lastWordEnd = speechEnd;
        if (m_utteranceEndMs > 0)
            m_utteranceEndDue = speechEnd + m_utteranceEndMs / 1000.0;
    }
    ++m_turnsEnded;
    const int dropAfter = m_server->faults().dropAfterUtterances;
    if (m_dropFault && dropAfter > 0 && m_turnsEnded >= dropAfter)
        drop();
}

void FakeDeepgramSession::flush(bool fromFinalize)
{
    const double now = double(m_samples) / m_sampleRate;
    QStringList text;
    if (m_inSpeech) {
        if (const QStringList *utterance = m_server->currentUtterance())
            text = *utterance;
        m_server->finishUtterance();
        m_inSpeech = false;
        m_vad.reset();
        m_pauseVad.reset();
        m_phrase = 0;
        m_pauseStart = -1.0;
        m_revealedFloor = 0;
    }
    sendResults(text, now, now, true, false, fromFinalize);
    if (!text.isEmpty())
        m_lastWordEnd = now;
}

QJsonArray FakeDeepgramSession::words(const QStringList &text, double start, double end) const
{
    QJsonArray list;
    if (text.isEmpty())
        return list;
    const double step = std::max(0.0, end - start) / double(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        QString word = text[i].toLower();
        word.remove(QRegularExpression(QStringLiteral(R"([^\w'])")));
        list.append(QJsonObject{{QStringLiteral("word"), word},
                                {QStringLiteral("start"), rounded(start + step * double(i))},
                                {QStringLiteral("end"), rounded(start + step * double(i + 1))},
                                {QStringLiteral("confidence"), 0.98},
                                {QStringLiteral("punctuated_word"), text[i]}});
    }
    return list;
}

void FakeDeepgramSession::sendResults(const QStringList &scripted, double windowEnd, double wordsEnd, bool isFinal,
                                      bool speechFinal, bool fromFinalize)
{
    QStringList text = scripted;
    text.removeAll(QStringLiteral("|")); // pause marks are the script's, not words
    const double windowStart = m_windowStart;
    const QJsonObject alternative{{QStringLiteral("transcript"), text.join(QLatin1Char(' '))},
                                  {QStringLiteral("confidence"), text.isEmpty() ? 0.0 : 0.98},
                                  {QStringLiteral("words"), words(text, m_wordsStart, wordsEnd)}};
    send({{QStringLiteral("type"), QStringLiteral("Results")},
          {QStringLiteral("channel_index"), QJsonArray{0, 1}},
          {QStringLiteral("duration"), rounded(windowEnd - windowStart)},
          {QStringLiteral("start"), rounded(windowStart)},
          {QStringLiteral("is_final"), isFinal},
          {QStringLiteral("speech_final"), speechFinal},
          {QStringLiteral("from_finalize"), fromFinalize},
          {QStringLiteral("channel"), QJsonObject{{QStringLiteral("alternatives"), QJsonArray{alternative}}}},
          {QStringLiteral("metadata"),
           QJsonObject{{QStringLiteral("request_id"), QUuid::createUuid().toString(QUuid::WithoutBraces)},
                       {QStringLiteral("model_info"), QJsonObject{{QStringLiteral("name"), QStringLiteral("2-general-nova")},
                                                                  {QStringLiteral("version"), QStringLiteral("2024-01-09.29447")},
                                                                  {QStringLiteral("arch"), QStringLiteral("nova-2")}}},
                       {QStringLiteral("model_uuid"), QUuid::createUuid().toString(QUuid::WithoutBraces)}}}});
    if (isFinal) {
        m_windowStart = windowEnd;
        m_wordsStart = std::max(m_wordsStart, windowEnd);
    }
}

void FakeDeepgramSession::onText(const QString &message)
{
    if (m_closing)
        return;
    m_server->record(m_index).textMessages.append(message);
    m_idle.start(m_server->options().noAudioTimeoutMs);
    const QString type = QJsonDocument::fromJson(message.toUtf8()).object().value(QLatin1String("type")).toString();
    if (type == QLatin1String("Finalize")) {
        flush(true);
    } else if (type == QLatin1String("CloseStream")) {
        flush(false);
        const double duration = double(m_samples) / m_sampleRate;
        send({{QStringLiteral("type"), QStringLiteral("Metadata")},
              {QStringLiteral("transaction_key"), QStringLiteral("deprecated")},
              {QStringLiteral("request_id"), QUuid::createUuid().toString(QUuid::WithoutBraces)},
              {QStringLiteral("sha256"), QStringLiteral("0000000000000000000000000000000000000000000000000000000000000000")},
              {QStringLiteral("created"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
              {QStringLiteral("duration"), rounded(duration)},
              {QStringLiteral("channels"), 1}});
        closeWith(1000, QString());
    }
    // KeepAlive: no reply; it only restarts the idle timer above.
}

void FakeDeepgramSession::send(const QJsonObject &message)
{
    // Muted: the script still advances (the utterance was "heard"), nothing is said.
    if (m_closing || m_server->faults().mute)
        return;
    const QString text = QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact));
    m_server->record(m_index).sentMessages.append(text);
    m_socket->sendTextMessage(text);
    Q_EMIT m_server->messageSent(m_index, text);
}

void FakeDeepgramSession::closeWith(int code, const QString &reason)
{
    if (m_closing)
        return;
    m_closing = true;
    m_idle.stop();
    m_server->record(m_index).serverCloseCode = code;
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

void FakeDeepgramSession::drop()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idle.stop();
    m_server->record(m_index).droppedByFault = true;
    // No close frame: what a client sees when a path to Deepgram breaks. What
    // was already sent is delivered first: the script has counted it as heard,
    // so losing it would make the replayed audio get the next utterance's words.
    m_socket->flush();
    m_socket->abort();
}

void FakeDeepgramSession::onDisconnected()
{
    FakeDeepgram::Connection &record = m_server->record(m_index);
    if (!record.open)
        return;
    record.open = false;
    record.clientCloseCode = int(m_socket->closeCode());
    m_closing = true;
    m_idle.stop();
    Q_EMIT m_server->connectionClosed(m_index);
    deleteLater();
}

} // namespace apex::test
