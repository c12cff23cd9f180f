#include "democall/simulatedcaller.h"

#include "observability/clock.h"
#include "observability/logging.h"
#include "telephony/twiliomessages.h"
#include "telephony/twiliosignature.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QUrl>
#include <QWebSocket>
#include <QXmlStreamReader>

#include <algorithm>
#include <cmath>

namespace apex {

namespace {

constexpr std::int64_t kNsPerSample = 125'000; // 8 kHz
constexpr std::int64_t kNsPerMs = 1'000'000;
// Sending up to this early saves a 0-1 ms re-arm of the timer on every tick.
constexpr std::int64_t kEarlySendNs = 1'000'000;
// More than this many frames overdue: the event loop was starved; skip ahead
// instead of bursting (Twilio would have lost them too).
constexpr int kMaxCatchUpFrames = 5;
constexpr int kCloseLingerMs = 2'000;
constexpr int kMaxNotes = 8;
constexpr char kMulawSilence = char(0xFF);

QString twilioSid(const char *prefix)
{
    QString sid = QString::fromLatin1(prefix);
    for (int i = 0; i < 4; ++i)
        sid += QStringLiteral("%1").arg(QRandomGenerator::global()->generate(), 8, 16, QLatin1Char('0'));
    return sid;
}

// G.711 mu-law magnitude on the 14-bit scale; only an energy gate needs it,
// so the simulator does not pull the codec in for this.
int mulawMagnitude(unsigned char code)
{
    const unsigned char c = ~code;
    const int exponent = (c >> 4) & 0x07;
    const int mantissa = c & 0x0F;
    return (((mantissa << 3) + 0x84) << exponent) - 0x84;
}

double msBetween(std::int64_t fromNs, std::int64_t toNs)
{
    return double(toNs - fromNs) / double(kNsPerMs);
}

} // namespace

bool SimulatedCaller::isVoiced(QByteArrayView mulaw)
{
    if (mulaw.isEmpty())
        return false;
    // Mean magnitude above ~-45 dBFS (14-bit scale, 8159 full scale): quiet
    // enough to keep weak consonants, loud enough to ignore a WAV's noise floor.
    constexpr int kThreshold = 45;
    qint64 sum = 0;
    for (const char c : mulaw)
        sum += mulawMagnitude(static_cast<unsigned char>(c));
    return sum / mulaw.size() > kThreshold;
}

SimulatedCaller::SimulatedCaller(SimulatedCallerOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_tick(this)
    , m_guard(this)
{
    m_tick.setSingleShot(true);
    m_tick.setTimerType(Qt::PreciseTimer);
    connect(&m_tick, &QTimer::timeout, this, &SimulatedCaller::onTick);
    m_guard.setSingleShot(true);
    for (QByteArray &utterance : m_options.utterances) {
        if (utterance.isEmpty())
            utterance = QByteArray(kFrameBytes, kMulawSilence);
    }
}

SimulatedCaller::~SimulatedCaller()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

namespace {

QString hostForUrl(const QString &host)
{
    if (host.contains(QLatin1Char(':')) && !host.startsWith(QLatin1Char('[')))
        return QStringLiteral("[%1]").arg(host); // an IPv6 literal
    return host;
}

// The <Stream> of a <Connect> TwiML and its <Parameter>s; false when there is none.
bool readConnectStream(const QByteArray &twiml, QString *url, QMap<QString, QString> *parameters)
{
    QXmlStreamReader xml(twiml);
    bool found = false;
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        if (xml.name() == QLatin1String("Stream")) {
            found = true;
            *url = xml.attributes().value(QLatin1String("url")).toString();
        } else if (xml.name() == QLatin1String("Parameter") && found) {
            parameters->insert(xml.attributes().value(QLatin1String("name")).toString(),
                               xml.attributes().value(QLatin1String("value")).toString());
        }
    }
    return found && !xml.hasError();
}

} // namespace

void SimulatedCaller::start()
{
    if (m_phase != Phase::Idle)
        return;
    m_report.tenant = m_options.tenant;
    if (m_options.viaWebhook) {
        postWebhook();
        return;
    }
    openStream();
}

void SimulatedCaller::postWebhook()
{
    m_phase = Phase::Webhook;
    m_report.callSid = twilioSid("CA");
    m_accountSid = twilioSid("AC");
    const QString postUrl = QStringLiteral("http://%1:%2%3").arg(hostForUrl(m_options.host)).arg(m_options.port).arg(m_options.webhookPath);
    const QList<QPair<QString, QString>> fields{
        {QStringLiteral("AccountSid"), m_accountSid},   {QStringLiteral("ApiVersion"), QStringLiteral("2010-04-01")},
        {QStringLiteral("CallSid"), m_report.callSid},  {QStringLiteral("CallStatus"), QStringLiteral("ringing")},
        {QStringLiteral("Direction"), QStringLiteral("inbound")}, {QStringLiteral("From"), m_options.from},
        {QStringLiteral("To"), m_options.to},
    };
    QByteArray body;
    for (const auto &[name, value] : fields) {
        if (!body.isEmpty())
            body += '&';
        body += QUrl::toPercentEncoding(name) + '=' + QUrl::toPercentEncoding(value);
    }
    QNetworkRequest request{QUrl(postUrl)};
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
    request.setTransferTimeout(m_options.connectTimeoutMs);
    if (!m_options.authToken.isEmpty()) {
        const QString signedUrl = m_options.signedWebhookUrl.isEmpty() ? postUrl : m_options.signedWebhookUrl;
        request.setRawHeader(QByteArrayLiteral("X-Twilio-Signature"),
                             twilio::computeSignature(m_options.authToken.toUtf8(), signedUrl, twilio::parseFormBody(body)));
    }
    m_network = std::make_unique<QNetworkAccessManager>();
    QNetworkReply *reply = m_network->post(request, body);
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        onWebhookAnswer(status, reply->readAll(),
                        reply->error() == QNetworkReply::NoError || status != 0 ? QString() : reply->errorString());
    });
}

void SimulatedCaller::onWebhookAnswer(int status, const QByteArray &body, const QString &networkError)
{
    if (m_phase != Phase::Webhook)
        return;
    if (!networkError.isEmpty()) {
        fail(QStringLiteral("voice webhook: %1").arg(networkError));
        return;
    }
    QString streamUrl;
    QMap<QString, QString> parameters;
    if (status != 200 || !readConnectStream(body, &streamUrl, &parameters)) {
        fail(QStringLiteral("voice webhook answered %1: %2").arg(status).arg(QString::fromUtf8(body.left(200)).trimmed()));
        return;
    }
    m_streamParameters = parameters;
    m_report.tenant = parameters.value(QStringLiteral("tenant"));
    openStream();
}

void SimulatedCaller::openStream()
{
    m_phase = Phase::Connecting;
    m_socket = std::make_unique<QWebSocket>();
    m_socket->setParent(this);
    connect(m_socket.get(), &QWebSocket::connected, this, &SimulatedCaller::onConnected);
    connect(m_socket.get(), &QWebSocket::textMessageReceived, this, &SimulatedCaller::onTextMessage);
    connect(m_socket.get(), &QWebSocket::binaryMessageReceived, this, &SimulatedCaller::onBinaryMessage);
    connect(m_socket.get(), &QWebSocket::disconnected, this, &SimulatedCaller::onDisconnected);

    const QString url = QStringLiteral("ws://%1:%2%3").arg(hostForUrl(m_options.host)).arg(m_options.port).arg(m_options.path);
    m_guard.disconnect();
    connect(&m_guard, &QTimer::timeout, this, [this, url] {
        fail(QStringLiteral("cannot connect to %1 within %2 ms").arg(url).arg(m_options.connectTimeoutMs));
    });
    m_guard.start(m_options.connectTimeoutMs);
    m_socket->open(QUrl(url));
}

void SimulatedCaller::abort(const QString &reason)
{
    fail(reason);
}

void SimulatedCaller::onConnected()
{
    if (m_phase != Phase::Connecting)
        return;
    m_guard.stop();
    if (m_report.callSid.isEmpty()) {
        m_report.callSid = twilioSid("CA");
        m_accountSid = twilioSid("AC");
    }
    m_report.streamSid = twilioSid("MZ");

    sendText(twilio::toJson(twilio::ConnectedEvent{}));
    twilio::StartEvent start;
    start.sequenceNumber = ++m_sequence;
    start.streamSid = m_report.streamSid;
    start.accountSid = m_accountSid;
    start.callSid = m_report.callSid;
    if (m_options.viaWebhook) {
        // What Twilio does: the TwiML's parameters, verbatim.
        start.customParameters = m_streamParameters;
    } else {
        if (!m_options.tenant.isEmpty())
            start.customParameters.insert(QStringLiteral("tenant"), m_options.tenant);
        start.customParameters.insert(QStringLiteral("from"), m_options.from);
        start.customParameters.insert(QStringLiteral("to"), m_options.to);
    }
    sendText(twilio::toJson(start));

    const std::int64_t now = monotonicNowNs();
    m_t0Ns = now;
    m_nextTickNs = now + kFrameNs; // Twilio's first media follows start by one frame
    m_phase = Phase::WaitingForGreeting;
    m_phaseStartNs = now;
    scheduleTick(now);
}

std::int64_t SimulatedCaller::sampleAt(std::int64_t nowNs) const
{
    return std::max<std::int64_t>(0, (nowNs - m_t0Ns) / kNsPerSample);
}

void SimulatedCaller::scheduleTick(std::int64_t nowNs)
{
    const std::int64_t waitNs = std::max<std::int64_t>(0, m_nextTickNs - nowNs);
    m_tick.start(int((waitNs + kNsPerMs - 1) / kNsPerMs));
}

void SimulatedCaller::onTick()
{
    std::int64_t now = monotonicNowNs();
    if (m_phase >= Phase::WaitingForGreeting && m_phase <= Phase::Finishing && now - m_nextTickNs > m_report.maxTickLateMs * kNsPerMs) {
        m_report.maxTickLateMs = msBetween(m_nextTickNs, now);
        m_report.maxTickLateNs = now;
    }
    int sent = 0;
    while (m_nextTickNs <= now + kEarlySendNs && m_phase >= Phase::WaitingForGreeting && m_phase <= Phase::Finishing) {
        if (sent == kMaxCatchUpFrames) {
            m_nextTickNs = now + kFrameNs;
            break;
        }
        sendFrame(now);
        m_nextTickNs += kFrameNs;
        ++sent;
        now = monotonicNowNs();
    }
    if (sent > 1)
        ++m_report.lateTicks;
    echoDueMarks(sampleAt(now));
    advance(now);
    if (m_phase >= Phase::WaitingForGreeting && m_phase <= Phase::Finishing)
        scheduleTick(monotonicNowNs());
}

void SimulatedCaller::sendFrame(std::int64_t nowNs)
{
    twilio::MediaEvent media;
    media.sequenceNumber = ++m_sequence;
    media.streamSid = m_report.streamSid;
    media.chunk = ++m_chunk;
    media.timestampMs = (m_chunk - 1) * 20; // media time, as Twilio stamps it
    media.payload = nextCallerFrame(nowNs);
    sendText(twilio::toJson(media));
    ++m_report.framesSent;
}

QByteArray SimulatedCaller::nextCallerFrame(std::int64_t nowNs)
{
    static const QByteArray silence(kFrameBytes, kMulawSilence);
    if (m_utterance < 0 || m_utterancePos >= m_options.utterances.at(m_utterance).size())
        return silence;
    const QByteArray &utterance = m_options.utterances.at(m_utterance);
    QByteArray frame = utterance.mid(m_utterancePos, kFrameBytes);
    if (frame.size() < kFrameBytes)
        frame.append(kFrameBytes - frame.size(), kMulawSilence);
    const qsizetype index = m_utterancePos / kFrameBytes;
    m_utterancePos += kFrameBytes;
    if (m_phase == Phase::Speaking && index == m_lastVoicedFrame) {
        // End of speech. The utterance's own trailing silence still goes out,
        // but an agent that answers during it is answering this utterance.
        m_endOfSpeechNs = nowNs;
        m_report.turns[m_utterance].endOfSpeechNs = nowNs;
        m_phase = Phase::AwaitingReply;
        m_phaseStartNs = nowNs;
        m_replyTurn = m_utterance;
        m_agentHeard = false;
        m_bargedInThisReply = false;
    }
    return frame;
}

void SimulatedCaller::startUtterance(int index, std::int64_t nowNs)
{
    m_utterance = index;
    m_utterancePos = 0;
    m_lastVoicedFrame = -1;
    const QByteArray &utterance = m_options.utterances.at(index);
    qsizetype frame = 0;
    for (qsizetype pos = 0; pos < utterance.size(); pos += kFrameBytes, ++frame) {
        if (isVoiced(QByteArrayView(utterance).sliced(pos, std::min<qsizetype>(kFrameBytes, utterance.size() - pos))))
            m_lastVoicedFrame = frame;
    }
    if (m_lastVoicedFrame < 0)
        m_lastVoicedFrame = frame - 1; // all silence: it ends with its last frame
    TurnReport turn;
    turn.index = index + 1;
    m_report.turns.append(turn);
    m_phase = Phase::Speaking;
    m_phaseStartNs = nowNs;
}

bool SimulatedCaller::agentQuiet(std::int64_t nowNs) const
{
    return sampleAt(nowNs) >= m_playoutEndSample && nowNs - m_lastAgentFrameNs >= m_options.agentQuietMs * kNsPerMs;
}

void SimulatedCaller::advance(std::int64_t nowNs)
{
    const int utteranceCount = int(m_options.utterances.size());
    switch (m_phase) {
    case Phase::WaitingForGreeting:
        if (m_options.greeting == GreetingPolicy::SpeakFirst) {
            if (nowNs - m_phaseStartNs < m_options.initialSilenceMs * kNsPerMs)
                return;
        } else if (!m_agentHeard) {
            if (nowNs - m_phaseStartNs > m_options.answerTimeoutMs * kNsPerMs)
                fail(QStringLiteral("no greeting from the agent within %1 ms").arg(m_options.answerTimeoutMs));
            return;
        } else if (!agentQuiet(nowNs)) {
            if (nowNs - m_replyStartNs > m_options.maxReplyMs * kNsPerMs)
                fail(QStringLiteral("greeting longer than %1 ms").arg(m_options.maxReplyMs));
            return;
        }
        if (utteranceCount == 0) {
            m_phase = Phase::Finishing;
            m_phaseStartNs = nowNs;
        } else {
            startUtterance(0, nowNs);
        }
        return;
    case Phase::Speaking:
        return;
    case Phase::AwaitingReply:
        if (nowNs - m_endOfSpeechNs > m_options.answerTimeoutMs * kNsPerMs)
            fail(QStringLiteral("no reply to utterance %1 within %2 ms").arg(m_utterance + 1).arg(m_options.answerTimeoutMs));
        return;
    case Phase::AgentReplying: {
        const bool more = m_utterance + 1 < utteranceCount;
        const bool quiet = agentQuiet(nowNs);
        if (m_options.bargeInAfterMs > 0 && more && !quiet && !m_bargedInThisReply
            && nowNs - m_replyStartNs >= m_options.bargeInAfterMs * kNsPerMs) {
            m_bargedInThisReply = true;
            m_bargeTurn = m_replyTurn;
            m_bargeInStartNs = nowNs;
            m_report.turns[m_replyTurn].bargedIn = true;
            startUtterance(m_utterance + 1, nowNs);
            return;
        }
        if (quiet) {
            if (more) {
                startUtterance(m_utterance + 1, nowNs);
            } else {
                m_phase = Phase::Finishing;
                m_phaseStartNs = nowNs;
            }
        } else if (nowNs - m_replyStartNs > m_options.maxReplyMs * kNsPerMs) {
            fail(QStringLiteral("reply to utterance %1 longer than %2 ms").arg(m_utterance + 1).arg(m_options.maxReplyMs));
        }
        return;
    }
    case Phase::Finishing:
        if (nowNs - m_phaseStartNs >= m_options.trailingSilenceMs * kNsPerMs)
            finishCall();
        return;
    default:
        return;
    }
}

void SimulatedCaller::onTextMessage(const QString &message)
{
    if (m_phase < Phase::WaitingForGreeting || m_phase == Phase::Done)
        return;
    const std::int64_t now = monotonicNowNs();
    auto parsed = twilio::parseOutbound(message.toUtf8());
    if (!parsed.ok()) {
        malformed(QStringLiteral("%1: %2").arg(twilio::toString(parsed.error().kind), parsed.error().detail));
        return;
    }
    std::visit(
        [this, now](const auto &event) {
            using T = std::decay_t<decltype(event)>;
            if (event.streamSid != m_report.streamSid) {
                malformed(QStringLiteral("streamSid \"%1\", expected %2").arg(event.streamSid.left(40), m_report.streamSid));
                return;
            }
            if constexpr (std::is_same_v<T, twilio::OutboundMedia>) {
                onAgentFrame(event.payload, now);
            } else if constexpr (std::is_same_v<T, twilio::OutboundMark>) {
                ++m_report.marksReceived;
                const std::int64_t nowSample = sampleAt(now);
                if (m_playoutEndSample <= nowSample && m_pendingMarks.empty())
                    echoMark(event.name); // nothing queued: played already
                else
                    m_pendingMarks.push_back({event.name, m_playoutEndSample});
            } else {
                onClear(now);
            }
        },
        parsed.value());
}

void SimulatedCaller::onBinaryMessage(const QByteArray &message)
{
    if (m_phase < Phase::WaitingForGreeting || m_phase == Phase::Done)
        return;
    malformed(QStringLiteral("binary frame of %1 bytes").arg(message.size()));
}

void SimulatedCaller::onAgentFrame(const QByteArray &payload, std::int64_t nowNs)
{
    ++m_report.framesReceived;
    if (payload.isEmpty() || payload.size() % kFrameBytes != 0)
        malformed(QStringLiteral("media payload of %1 bytes (not a multiple of %2)").arg(payload.size()).arg(kFrameBytes));

    const std::int64_t nowSample = sampleAt(nowNs);
    // Within a greeting or reply, a frame that finds the playout dry is late by
    // as long as it has been dry: a gap the caller hears.
    if (m_agentHeard && (m_phase == Phase::AgentReplying || m_phase == Phase::WaitingForGreeting)) {
        const std::int64_t drySamples = nowSample - m_playoutEndSample;
        const int late = drySamples > 5 * 8 ? 1 : 0;
        const int veryLate = drySamples > 40 * 8 ? 1 : 0;
        m_report.lateFrames += late;
        m_report.veryLateFrames += veryLate;
        if (m_replyTurn >= 0 && m_phase == Phase::AgentReplying) {
            TurnReport &turn = m_report.turns[m_replyTurn];
            turn.lateFrames += late;
            turn.veryLateFrames += veryLate;
            if (double(drySamples) / 8.0 > turn.maxLateMs) {
                turn.maxLateMs = double(drySamples) / 8.0;
                turn.maxLateAtMs = turn.agentAudioMs;
            }
        }
    }
    const std::int64_t playStart = std::max(nowSample, m_playoutEndSample);
    if (m_report.agentAudio.size() < playStart)
        m_report.agentAudio.append(qsizetype(playStart - m_report.agentAudio.size()), kMulawSilence);
    m_report.agentAudio.append(payload);
    m_playoutEndSample = playStart + payload.size();
    m_lastAgentFrameNs = nowNs;

    if (!m_agentHeard && (m_phase == Phase::WaitingForGreeting || m_phase == Phase::AwaitingReply)) {
        m_agentHeard = true;
        m_replyStartNs = nowNs;
        if (m_phase == Phase::WaitingForGreeting) {
            m_report.greetingLatencyMs = msBetween(m_t0Ns, nowNs);
        } else {
            m_report.turns[m_replyTurn].latencyMs = msBetween(m_endOfSpeechNs, nowNs);
            m_report.turns[m_replyTurn].firstFrameNs = nowNs;
            // The load-test fake TTS starts a tagged sentence with "APXTAG" and 10 digits.
            if (payload.startsWith("APXTAG") && payload.size() >= 16) {
                bool ok = false;
                const qint64 tag = payload.mid(6, 10).toLongLong(&ok);
                if (ok)
                    m_report.turns[m_replyTurn].audioTag = tag;
            }
            m_phase = Phase::AgentReplying;
            m_phaseStartNs = nowNs;
        }
    }
    if (m_replyTurn >= 0) {
        TurnReport &turn = m_report.turns[m_replyTurn];
        ++turn.agentFrames;
        turn.agentAudioMs += double(payload.size()) / 8.0;
    }
}

void SimulatedCaller::onClear(std::int64_t nowNs)
{
    ++m_report.clearsReceived;
    const std::int64_t nowSample = sampleAt(nowNs);
    if (m_playoutEndSample > nowSample) {
        m_playoutEndSample = nowSample;
        if (m_report.agentAudio.size() > nowSample)
            m_report.agentAudio.truncate(qsizetype(nowSample));
    }
    // Twilio echoes every pending mark at once on clear.
    while (!m_pendingMarks.empty()) {
        echoMark(m_pendingMarks.front().name);
        m_pendingMarks.pop_front();
    }
    if (m_bargeTurn >= 0 && !m_report.turns[m_bargeTurn].clearReceived) {
        TurnReport &turn = m_report.turns[m_bargeTurn];
        turn.clearReceived = true;
        turn.clearAfterMs = msBetween(m_bargeInStartNs, nowNs);
    }
}

void SimulatedCaller::echoDueMarks(std::int64_t nowSample)
{
    while (!m_pendingMarks.empty() && m_pendingMarks.front().dueSample <= nowSample) {
        echoMark(m_pendingMarks.front().name);
        m_pendingMarks.pop_front();
    }
}

void SimulatedCaller::echoMark(const QString &name)
{
    if (m_phase < Phase::WaitingForGreeting || m_phase > Phase::Finishing)
        return;
    sendText(twilio::toJson(twilio::MarkEvent{++m_sequence, m_report.streamSid, name}));
    ++m_report.marksEchoed;
}

void SimulatedCaller::malformed(const QString &what)
{
    ++m_report.malformedFrames;
    if (m_report.notes.size() < kMaxNotes)
        m_report.notes.append(QStringLiteral("malformed frame: %1").arg(what));
}

void SimulatedCaller::sendText(const QByteArray &json)
{
    m_socket->sendTextMessage(QString::fromUtf8(json));
}

void SimulatedCaller::fail(const QString &reason)
{
    if (m_phase == Phase::Done)
        return;
    m_report.errors.append(reason);
    log::CallLogger("caller", m_report.callSid, m_report.tenant).warn("simulated call failed: {}", reason);
    if (m_phase >= Phase::WaitingForGreeting && m_phase <= Phase::Finishing) {
        finishCall();
        return;
    }
    emitFinished();
    if (m_socket)
        m_socket->abort(); // signals are already disconnected
}

void SimulatedCaller::finishCall()
{
    m_tick.stop();
    m_report.completed = m_report.errors.isEmpty();
    sendText(twilio::toJson(twilio::StopEvent{++m_sequence, m_report.streamSid, m_accountSid, m_report.callSid}));
    m_phase = Phase::Closing;
    m_guard.disconnect();
    connect(&m_guard, &QTimer::timeout, this, [this] {
        m_socket->abort();
        emitFinished();
    });
    m_guard.start(kCloseLingerMs);
    m_socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("caller hung up"));
}

void SimulatedCaller::onDisconnected()
{
    switch (m_phase) {
    case Phase::Closing:
        emitFinished();
        return;
    case Phase::Connecting:
        m_guard.stop();
        m_report.errors.append(QStringLiteral("cannot connect to ws://%1:%2%3: %4")
                                   .arg(m_options.host)
                                   .arg(m_options.port)
                                   .arg(m_options.path, m_socket->errorString()));
        emitFinished();
        return;
    case Phase::Done:
    case Phase::Idle:
        return;
    default:
        break;
    }
    const QString how = QStringLiteral("%1%2%3")
                            .arg(int(m_socket->closeCode()))
                            .arg(m_socket->closeReason().isEmpty() ? QString() : QStringLiteral(" "),
                                 m_socket->closeReason());
    const bool lastReply = m_utterance + 1 >= m_options.utterances.size()
                        && (m_phase == Phase::AgentReplying || m_phase == Phase::Finishing);
    if (lastReply) {
        // The agent said goodbye and hung up: a normal end of a scripted call.
        m_report.completed = m_report.errors.isEmpty();
        m_report.notes.append(QStringLiteral("engine closed the stream after the last reply (%1)").arg(how));
    } else {
        static const char *names[] = {"idle", "connecting", "waiting for the greeting", "speaking", "awaiting a reply",
                                      "listening to a reply", "finishing", "closing", "done"};
        m_report.errors.append(QStringLiteral("engine closed the stream (%1) while %2 (utterance %3)")
                                   .arg(how, QLatin1String(names[int(m_phase)]))
                                   .arg(m_utterance + 1));
    }
    emitFinished();
}

void SimulatedCaller::emitFinished()
{
    if (m_phase == Phase::Done)
        return;
    m_phase = Phase::Done;
    m_tick.stop();
    m_guard.stop();
    if (m_t0Ns != 0)
        m_report.durationMs = msBetween(m_t0Ns, monotonicNowNs());
    if (m_socket)
        m_socket->disconnect(this);
    Q_EMIT finished(m_report);
}

} // namespace apex
