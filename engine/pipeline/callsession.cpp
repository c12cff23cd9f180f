#include "pipeline/callsession.h"

#include "audio/g711.h"

#include "pipeline/playoutposition.h"
#include "pipeline/speaker.h"
#include "store/sessionstore.h"
#include "stt/speechrecognizer.h"
#include "tts/speechsynthesizer.h"

#include "observability/clock.h"

#include <algorithm>

namespace apex {

const char *callStateName(CallState state)
{
    switch (state) {
    case CallState::Connecting: return "connecting";
    case CallState::Greeting: return "greeting";
    case CallState::Listening: return "listening";
    case CallState::Thinking: return "thinking";
    case CallState::Speaking: return "speaking";
    case CallState::Ended: return "ended";
    }
    return "unknown";
}

CallSession::CallSession(std::unique_ptr<CallLeg> leg, const CallServices &services, QObject *parent)
    : QObject(parent)
    , m_leg(std::move(leg))
    , m_services(services)
    , m_log("call")
{
    m_leg->setParent(nullptr);
    m_speaker = new Speaker(m_leg.get(), m_services.synthesizer, this);
    m_silenceBudget.setSingleShot(true);
    connect(&m_silenceBudget, &QTimer::timeout, this, &CallSession::onSilenceBudgetSpent);
    m_judgingDeadline.setSingleShot(true);
    connect(&m_judgingDeadline, &QTimer::timeout, this, &CallSession::onJudgingDeadline);
    m_transcriptStable.setSingleShot(true);
    connect(&m_transcriptStable, &QTimer::timeout, this, &CallSession::onTranscriptStable);
    connect(m_leg.get(), &CallLeg::started, this, &CallSession::onLegStarted);
    connect(m_leg.get(), &CallLeg::ended, this, &CallSession::onLegEnded);
    connect(m_leg.get(), &CallLeg::audioReceived, this, [this](const QByteArray &mulaw) {
        if (m_recognizer)
            m_recognizer->pushMulaw(mulaw);
        if (m_tenant && m_tenant->preemptiveReply.enabled) {
            m_pausePcm.clear(); // keeps its capacity: no allocation per frame
            audio::g711::decodeMulaw(mulaw, m_pausePcm);
            if (m_pauseVad.push(m_pausePcm) == audio::VoiceActivityDetector::Event::SpeechEnded && m_stableAwaitingPause)
                onTranscriptStable();
        }
    });
    connect(m_leg.get(), &CallLeg::dtmfReceived, this, [this](QChar digit) {
        m_log.info("dtmf {}", QString(digit));
        emitLine(TranscriptLine::Speaker::System, QStringLiteral("DTMF %1").arg(digit), true);
    });
    connect(m_speaker, &Speaker::firstFrameSent, this, [this](std::int64_t ns) {
        m_silenceBudget.stop();
        if (m_turn)
            m_turn->stamp(TurnStage::FirstFrameOut, ns);
        if (m_state == CallState::Thinking)
            setState(CallState::Speaking);
    });
    connect(m_speaker, &Speaker::firstAudio, this, [this](std::int64_t ns) {
        if (m_turn)
            m_turn->stamp(TurnStage::TtsFirstAudio, ns);
    });
    connect(m_speaker, &Speaker::synthesisRequestSent, this, [this](qint64 ns) {
        if (m_turn)
            m_turn->stamp(TurnStage::TtsRequestSent, ns);
    });
    connect(m_speaker, &Speaker::synthesisStarted, this, [this] {
        if (m_turn)
            m_turn->stampNow(TurnStage::TtsStart);
    });
    connect(m_speaker, &Speaker::synthesisFailed, this, [this](const QString &sentence, const QString &reason) {
        m_log.warn("tts failed for \"{}\": {}", sentence, reason);
    });
    connect(m_speaker, &Speaker::replyPlayed, this, &CallSession::onReplyPlayed);
}

CallSession::~CallSession()
{
    // The leg's signals must not reach a half-destroyed session.
    if (m_leg)
        m_leg->disconnect(this);
    if (m_recognizer)
        m_recognizer->stop();
    if (m_responder)
        m_responder->cancel();
}

std::uint64_t CallSession::framesSent() const
{
    return m_speaker->framesSent();
}

std::uint64_t CallSession::lateFrames() const
{
    return m_speaker->lateFrames();
}

void CallSession::onLegStarted(const CallStartInfo &info)
{
    m_info = info;
    m_startedAt = QDateTime::currentDateTimeUtc();
    const QString requested = info.parameters.value(QStringLiteral("tenant"));
    const QString called = info.to.isEmpty() ? info.parameters.value(QStringLiteral("to")) : info.to;
    m_tenant = m_services.tenants->resolve(requested, called);
    m_log.bind(m_info.callId, m_tenant ? m_tenant->id : requested);
    if (!m_tenant) {
        m_log.warn("unknown tenant \"{}\" (called {}): hanging up", requested, called);
        emitLine(TranscriptLine::Speaker::System, QStringLiteral("Unknown tenant \"%1\"").arg(requested), true);
        m_leg->hangUp();
        end();
        return;
    }
    m_log.info("call started from {} to {}", info.from.isEmpty() ? QStringLiteral("?") : info.from, called);
    m_bargeInPolicy = BargeInPolicy(m_tenant->bargeIn, m_tenant->language);
    audio::VoiceActivityDetector::Settings pause;
    pause.endpointingMs = kPreemptivePauseMs;
    m_pauseVad = audio::VoiceActivityDetector(pause);

    m_recognizer = m_services.recognizers->create(*m_tenant, m_info.callId);
    connect(m_recognizer.get(), &SpeechRecognizer::speechStarted, this, &CallSession::onSpeechStarted);
    connect(m_recognizer.get(), &SpeechRecognizer::partialTranscript, this, &CallSession::onPartialTranscript);
    connect(m_recognizer.get(), &SpeechRecognizer::endOfSpeech, this, &CallSession::onEndOfSpeech);
    connect(m_recognizer.get(), &SpeechRecognizer::finalTranscript, this, &CallSession::onFinalTranscript);
    connect(m_recognizer.get(), &SpeechRecognizer::failed, this, [this](const QString &reason) {
        m_log.error("speech recognition failed: {}", reason);
    });

    m_responder = m_services.responders->create(*m_tenant);
    connect(m_responder.get(), &Responder::textDelta, this, &CallSession::onResponderText);
    connect(m_responder.get(), &Responder::finished, this, &CallSession::onResponderFinished);
    connect(m_responder.get(), &Responder::failed, this, &CallSession::onResponderFailed);
    connect(m_responder.get(), &Responder::requestSent, this, [this](qint64 ns) {
        if (m_preemptive.active) {
            if (m_preemptive.requestSentNs < 0)
                m_preemptive.requestSentNs = ns;
        } else if (m_turn)
            m_turn->stamp(TurnStage::LlmRequestSent, ns);
    });
    m_responder->prepareCall(m_info.callId, m_tenant->id);

    m_speaker->setVoice(m_tenant->id, m_tenant->voice, m_tenant->language, m_info.callId);
    Q_EMIT started(m_info.callId, m_tenant->id);

    // The agent speaks first.
    if (m_tenant->greeting.isEmpty()) {
        setState(CallState::Listening);
        return;
    }
    setState(CallState::Greeting);
    m_log.info("greeting \"{}\"", m_tenant->greeting); // which version of the tenant answered
    m_reply = m_tenant->greeting;
    m_replySentenceIds.clear();
    m_replyInHistory = true;
    SentenceSplitter greetingSplitter;
    QStringList sentences = greetingSplitter.push(m_tenant->greeting);
    sentences += greetingSplitter.flush();
    for (const auto &sentence : std::as_const(sentences))
        speak(sentence);
    emitLine(TranscriptLine::Speaker::Agent, m_tenant->greeting, true);
    appendHistory(ConversationTurn::Role::Agent, m_tenant->greeting);
    m_speaker->endReply(QStringLiteral("greeting"));
}

void CallSession::onLegEnded(CallEndReason reason, const QString &detail)
{
    static const char *const codes[] = {"caller_hung_up", "agent_hung_up", "protocol_error", "transport_closed"};
    if (m_endReason.isEmpty())
        m_endReason = QLatin1String(codes[int(reason)]);
    switch (reason) {
    case CallEndReason::CallerHungUp: m_log.info("caller hung up"); break;
    case CallEndReason::AgentHungUp: m_log.info("agent hung up"); break;
    case CallEndReason::ProtocolError: m_log.warn("call ended on a protocol error: {}", detail); break;
    case CallEndReason::TransportClosed: m_log.info("media stream closed: {}", detail); break;
    }
    end();
}

void CallSession::onSpeechStarted()
{
    m_transcriptStable.stop();
    cancelPreemptiveReply("the caller spoke again");
    if (m_hangUpAfterReply)
        return; // the goodbye is not interrupted
    if (m_interruption == Interruption::Judging)
        return; // the utterance being judged
    if (m_state == CallState::Greeting || m_state == CallState::Speaking) {
        // The agent talks again, so a stop still waiting for its words (a
        // final that never came) is stale: judge this one afresh.
        startJudging();
    } else if (m_state == CallState::Thinking) {
        m_interruption = Interruption::None;
        // Nothing of the reply was heard yet: the caller is still talking, the
        // reply being prepared answers less than they will have said.
        BargeInDecision decision;
        decision.verdict = BargeInVerdict::Stop;
        decision.reason = BargeInReason::BeforeReply;
        decide(decision);
        bargeIn();
    }
}

void CallSession::startJudging()
{
    m_interruption = Interruption::Judging;
    m_onsetNs = monotonicNowNs();
    m_judgedSpeechEndNs.reset();
    m_backchannelSoFar = false;
    m_judgingExtended = false;
    m_judgingDeadline.start(m_bargeInPolicy.minSpeechMs());
}

void CallSession::onPartialTranscript(const QString &text)
{
    emitLine(TranscriptLine::Speaker::Caller, text, false);
    if (m_preemptive.active && preemptiveKey(text) != m_preemptive.key)
        cancelPreemptiveReply("the caller went on");
    armPreemptiveReply(text);
    if (m_interruption == Interruption::Judging) {
        const BargeInDecision decision = m_bargeInPolicy.onPartial(text);
        if (decision.verdict == BargeInVerdict::Stop)
            stopForCaller(decision);
        else if (decision.reason == BargeInReason::Backchannel)
            m_backchannelSoFar = true;
    } else if (m_interruption == Interruption::AgentStopped) {
        if (m_bargeInPolicy.onPartial(text).verdict == BargeInVerdict::Stop)
            m_interruption = Interruption::None; // a real turn: nothing to resume
    }
}

void CallSession::onJudgingDeadline()
{
    if (m_interruption != Interruption::Judging)
        return;
    if (m_judgedSpeechEndNs) {
        // The caller stopped talking in time but no final came: nothing the
        // recognizer could read, and the agent never stopped.
        BargeInDecision decision;
        decision.verdict = BargeInVerdict::Ignore;
        decision.reason = BargeInReason::NothingRecognised;
        decide(decision);
        m_interruption = Interruption::None;
        return;
    }
    if (m_backchannelSoFar && !m_judgingExtended) {
        // Only backchannel words so far, and the caller may well have stopped
        // already: the endpointer says so only its silence later. Wait that
        // long before taking the speech for long.
        m_judgingExtended = true;
        m_judgingDeadline.start(m_tenant->endpointingMs + kEndpointerSlackMs);
        return;
    }
    // Still talking at minSpeechMs, with no word that decides it. Stop now
    // rather than let a real interruption talk over the agent: if it turns out
    // to have been a backchannel after all, the sentence is said again.
    BargeInDecision decision;
    decision.verdict = BargeInVerdict::Stop;
    decision.reason = BargeInReason::SpeechTooLong;
    decision.speechMs = (monotonicNowNs() - m_onsetNs) / 1'000'000;
    stopForCaller(decision);
}

void CallSession::decide(const BargeInDecision &decision)
{
    const QString what = decision.describe();
    m_log.info("{}", what);
    if (m_turn)
        m_turn->bargeInDecisions.append(what);
    m_bargeIns.record(decision.reason);
}

void CallSession::stopForCaller(const BargeInDecision &decision)
{
    m_judgingDeadline.stop();
    if (m_state != CallState::Greeting && m_state != CallState::Thinking && m_state != CallState::Speaking) {
        // The agent finished while the caller was being judged: their words
        // are simply the next turn.
        m_interruption = Interruption::None;
        return;
    }
    decide(decision);
    bargeIn();
    m_interruption = Interruption::AgentStopped;
}

void CallSession::bargeIn()
{
    // Measured before the speaker forgets the reply.
    keepWhatWasHeard();
    ++m_epoch;
    m_silenceBudget.stop();
    m_log.info("barge-in in state {} (epoch {})", callStateName(m_state), m_epoch);
    m_speaker->interrupt();
    cancelPreemptiveReply("barge-in");
    if (m_responder)
        m_responder->cancel();
    m_leg->clearAudio();
    m_splitter = SentenceSplitter();
    if (m_turn) {
        m_turn->stampNow(TurnStage::BargeIn);
        m_replyAwaitingPlayout = false;
        finishTurn();
    }
    m_reply.clear();
    m_replySentenceIds.clear();
    m_replyInHistory = false;
    setState(CallState::Listening);
}

void CallSession::keepWhatWasHeard()
{
    // The context holds what the caller heard, not what was generated:
    // otherwise the model believes it said things the caller never heard, or
    // answers the old question again.
    if (m_reply.trimmed().isEmpty())
        return;
    const PlayoutPosition position(m_speaker->playout(m_replySentenceIds));
    const qsizetype cut = position.heardChars(m_reply);
    const QString heard = m_reply.left(cut).simplified();
    const QString unheard = m_reply.mid(cut).simplified();
    m_log.info("barge-in: the caller heard {} of {} characters of the reply", heard.size(), heard.size() + unheard.size());
    if (m_turn)
        m_turn->replyHeard = heard;

    const QList<SentencePlayout> sentences = m_speaker->playout(m_replySentenceIds);
    m_resumeSentences.clear();
    for (int i = position.sentenceInProgress(); i < sentences.size(); ++i)
        m_resumeSentences.append(sentences.at(i).text);
    m_resumeHeardBefore = m_reply.left(position.wholeSentenceChars(m_reply)).simplified();
    m_resumeCutInHistory = !heard.isEmpty();

    if (m_replyInHistory && !m_history.isEmpty() && m_history.last().role == ConversationTurn::Role::Agent) {
        if (heard.isEmpty())
            m_history.removeLast();
        else
            m_history.last().text = heard;
        saveSession();
    } else if (!heard.isEmpty()) {
        appendHistory(ConversationTurn::Role::Agent, heard);
    }

    TranscriptLine line{TranscriptLine::Speaker::Agent, heard, true, m_turnIndex, monotonicNowNs()};
    line.heardChars = heard.size();
    if (!unheard.isEmpty())
        line.text += (heard.isEmpty() ? QString() : QStringLiteral(" ")) + unheard;
    Q_EMIT transcript(line);
}

void CallSession::onEndOfSpeech(qint64 silenceMs)
{
    m_transcriptStable.stop(); // the final is on its way; a preemptive reply waits for it
    m_stableAwaitingPause = false;
    if (m_hangUpAfterReply)
        return;
    if (m_interruption == Interruption::Judging) {
        const qint64 silence = silenceMs < 0 ? m_tenant->endpointingMs : silenceMs;
        const std::int64_t speechEndNs = monotonicNowNs() - silence * 1'000'000;
        const BargeInDecision decision = m_bargeInPolicy.onSpeechLasted((speechEndNs - m_onsetNs) / 1'000'000);
        if (decision.verdict == BargeInVerdict::Stop) {
            stopForCaller(decision);
        } else {
            // Short enough for a backchannel: the final transcript decides.
            m_judgedSpeechEndNs = speechEndNs;
            m_judgingDeadline.start(kFinalTranscriptWaitMs);
            return;
        }
    }
    // A new utterance ended; an older one still in flight was superseded by barge-in.
    startTurn(silenceMs);
}

void CallSession::startTurn(qint64 silenceMs)
{
    // The endpointer speaks after `endpointingMs` of silence (or later, when a
    // recognizer went deaf and another noticed): the caller stopped talking
    // that long ago. Latency is counted from there, as the caller feels it.
    if (silenceMs < 0)
        silenceMs = m_tenant->endpointingMs;
    const std::int64_t now = monotonicNowNs();
    m_turn = TurnTrace(++m_turnIndex);
    m_turn->stamp(TurnStage::EndOfSpeech, now - silenceMs * 1'000'000);
    m_turn->stamp(TurnStage::Endpointed, now);
    m_holdLineSpoken = false;
    // The budget runs from the caller's last word.
    m_silenceBudget.start(int(std::max<qint64>(0, m_tenant->silenceBudgetMs - silenceMs)));
}

void CallSession::onSilenceBudgetSpent()
{
    // Whatever is slow (the final transcript, the first token, the first TTS
    // byte), the caller must not hear dead air: the providers' own deadlines
    // hand the turn to the fallbacks, and the hold line covers the wait.
    if (!m_turn || m_holdLineSpoken || m_tenant->holdLine.isEmpty() || m_state == CallState::Ended)
        return;
    if (m_state != CallState::Listening && m_state != CallState::Thinking)
        return;
    m_holdLineSpoken = true;
    m_log.warn("turn {}: no reply audio {} ms after the caller stopped; saying the hold line", m_turn->turnIndex(),
               m_tenant->silenceBudgetMs);
    emitLine(TranscriptLine::Speaker::System, QStringLiteral("Hold line: the reply is late"), true);
    m_speaker->say(m_tenant->holdLine);
}

void CallSession::onFinalTranscript(const QString &rawText)
{
    if (m_state == CallState::Ended || m_hangUpAfterReply)
        return;
    const QString text = rawText.simplified();
    m_transcriptStable.stop();
    m_stableAwaitingPause = false;
    if (m_preemptive.active
        && (m_interruption != Interruption::None || preemptiveKey(text) != m_preemptive.key || m_history != m_preemptive.history))
        cancelPreemptiveReply("the final transcript differs");
    if (m_interruption == Interruption::Judging) {
        m_judgingDeadline.stop();
        const BargeInDecision decision = m_bargeInPolicy.onFinal(text);
        if (decision.verdict == BargeInVerdict::Ignore) {
            decide(decision);
            m_interruption = Interruption::None;
            emitLine(TranscriptLine::Speaker::Caller, text, true);
            return;
        }
        const auto speechEndNs = m_judgedSpeechEndNs;
        stopForCaller(decision);
        m_interruption = Interruption::None;
        if (speechEndNs)
            startTurn((monotonicNowNs() - *speechEndNs) / 1'000'000);
    } else if (m_interruption == Interruption::AgentStopped) {
        m_interruption = Interruption::None;
        BargeInDecision decision = m_bargeInPolicy.onFinal(text);
        if (decision.verdict == BargeInVerdict::Ignore) {
            // A false interruption: the caller only said "ok", or nothing the
            // recognizer could read. Not a turn of its own.
            const QString what = decision.describe() + QStringLiteral(", resumed the interrupted sentence");
            m_log.info("{}", what);
            if (!m_traces.isEmpty())
                m_traces.last().bargeInDecisions.append(what);
            ++m_bargeIns.resumed;
            m_turn.reset();
            m_silenceBudget.stop();
            emitLine(TranscriptLine::Speaker::Caller, text, true);
            resumeInterruptedSentence();
            return;
        }
    }
    if (!m_turn)
        startTurn();
    m_turn->stampNow(TurnStage::SttFinal);
    if (text.isEmpty()) {
        // Noise, a cough, or speech the model could not place: keep listening.
        m_log.info("turn {}: nothing recognised", m_turn->turnIndex());
        m_turn.reset();
        m_silenceBudget.stop();
        if (m_holdLineSpoken)
            m_speaker->endReply(); // the hold line was the whole reply
        emitLine(TranscriptLine::Speaker::Caller, QString(), true);
        if (m_state != CallState::Greeting && m_state != CallState::Speaking)
            setState(CallState::Listening);
        return;
    }
    m_turn->utterance = text;
    emitLine(TranscriptLine::Speaker::Caller, text, true);
    m_log.info("turn {}: caller said \"{}\"", m_turn->turnIndex(), text);

    ResponderRequest request;
    request.systemPrompt = m_tenant->systemPrompt;
    request.history = m_history;
    request.utterance = text;
    appendHistory(ConversationTurn::Role::Caller, text);

    m_reply.clear();
    m_replySentenceIds.clear();
    m_replyInHistory = false;
    m_splitter = SentenceSplitter();
    setState(CallState::Thinking);
    if (m_preemptive.active) {
        adoptPreemptiveReply();
        return;
    }
    m_turn->stampNow(TurnStage::ResponderStart);
    m_responder->respond(request);
}

QString CallSession::preemptiveKey(const QString &text)
{
    QString key;
    key.reserve(text.size());
    for (const QChar c : text) {
        if (c.isLetterOrNumber() || c.isMark())
            key.append(c.toCaseFolded());
        else
            key.append(QLatin1Char(' ')); // punctuation separates like a space
    }
    return key.simplified();
}

void CallSession::armPreemptiveReply(const QString &partial)
{
    // Only a caller taking a fresh turn: not one talking over the agent (the
    // barge-in judgement owns that), and not after the endpointer spoke.
    m_stableAwaitingPause = false;
    const bool eligible = m_tenant && m_tenant->preemptiveReply.enabled && m_state == CallState::Listening
                          && m_interruption == Interruption::None && !m_turn && !m_hangUpAfterReply
                          && !preemptiveKey(partial).isEmpty();
    if (!eligible) {
        m_transcriptStable.stop();
        return;
    }
    if (m_preemptive.active)
        return; // the same words (a different partial cancelled it above)
    m_stablePartial = partial;
    m_transcriptStable.start(m_tenant->preemptiveReply.stableMs);
}

void CallSession::onTranscriptStable()
{
    m_stableAwaitingPause = false;
    if (m_preemptive.active || m_turn || m_state != CallState::Listening || m_interruption != Interruption::None
        || m_hangUpAfterReply || !m_responder)
        return;
    if (m_pauseVad.inSpeech()) {
        m_stableAwaitingPause = true; // asked once the caller falls silent, if the words hold
        return;
    }
    // No new partial for stableMs and the caller silent: they have paused on
    // these words. Ask now; the endpointer's silence is still running.
    const QString text = m_stablePartial.simplified();
    m_preemptive = PreemptiveReply{};
    m_preemptive.active = true;
    m_preemptive.key = preemptiveKey(text);
    m_preemptive.history = m_history;
    m_preemptive.startedNs = monotonicNowNs();
    m_log.info("preemptive reply asked for \"{}\"", text);
    ResponderRequest request;
    request.systemPrompt = m_tenant->systemPrompt;
    request.history = m_history;
    request.utterance = text;
    m_responder->respond(request);
}

void CallSession::cancelPreemptiveReply(const char *why)
{
    if (!m_preemptive.active)
        return;
    m_preemptive = PreemptiveReply{};
    ++m_preemptiveCounts.cancelled;
    m_log.info("preemptive reply cancelled: {}", why);
    // Nothing of it was spoken, synthesised or cached: its text only ever
    // reached m_preemptive. The responder counts the request as abandoned.
    if (m_responder)
        m_responder->cancel();
}

void CallSession::adoptPreemptiveReply()
{
    // The final says what the preemptive request asked: the turn goes on as if
    // it had been asked at the endpoint, with what has arrived since replayed.
    PreemptiveReply adopted = std::exchange(m_preemptive, PreemptiveReply{});
    ++m_preemptiveCounts.adopted;
    m_turn->preemptive = true;
    m_turn->preemptiveSentNs = adopted.startedNs;
    m_turn->stamp(TurnStage::ResponderStart, adopted.startedNs);
    if (adopted.requestSentNs >= 0)
        m_turn->stamp(TurnStage::LlmRequestSent, adopted.requestSentNs);
    if (adopted.firstTokenNs >= 0)
        m_turn->stamp(TurnStage::FirstToken, adopted.firstTokenNs);
    m_log.info("turn {}: preemptive reply adopted ({:.0f} ms before the endpoint, {} characters ready)",
               m_turn->turnIndex(), double(m_turn->at(TurnStage::Endpointed) - adopted.startedNs) / 1e6,
               adopted.text.size());
    if (!adopted.text.isEmpty())
        onResponderText(adopted.text);
    if (adopted.failure)
        onResponderFailed(*adopted.failure);
    else if (adopted.finished)
        onResponderFinished();
}

void CallSession::onResponderText(const QString &text)
{
    if (m_preemptive.active) {
        if (!text.isEmpty() && m_preemptive.firstTokenNs < 0)
            m_preemptive.firstTokenNs = monotonicNowNs();
        m_preemptive.text += text;
        return;
    }
    if (!m_turn || text.isEmpty())
        return;
    m_turn->stampNow(TurnStage::FirstToken);
    m_reply += text;
    const QStringList sentences = m_splitter.push(text);
    for (const auto &sentence : sentences)
        speak(sentence);
}

void CallSession::onResponderFinished()
{
    if (m_preemptive.active) {
        m_preemptive.finished = true;
        return;
    }
    if (!m_turn)
        return;
    const QStringList rest = m_splitter.flush();
    for (const auto &sentence : rest)
        speak(sentence);
    const QString reply = m_reply.simplified();
    m_turn->reply = reply;
    const ResponderUsage usage = m_responder->lastUsage();
    m_turn->promptTokens = usage.promptTokens;
    m_turn->completionTokens = usage.completionTokens;
    m_turn->tokensPerSecond = usage.tokensPerSecond;
    emitLine(TranscriptLine::Speaker::Agent, reply, true);
    // Saved once played: a reply cut off by a hang-up or a stop was never heard.
    m_replyAwaitingPlayout = true;
    m_speaker->endReply(QStringLiteral("turn-%1").arg(m_turn->turnIndex()));
}

void CallSession::onResponderFailed(const QString &reason)
{
    if (m_preemptive.active) {
        m_preemptive.failure = reason; // said only if the turn adopts it
        return;
    }
    m_log.error("responder failed: {}", reason);
    if (!m_turn)
        return;
    // Silence is the worst outcome: say the tenant's fallback line.
    m_reply = m_tenant->fallbackLine;
    m_replySentenceIds.clear();
    m_splitter = SentenceSplitter();
    QStringList sentences = m_splitter.push(m_reply);
    sentences += m_splitter.flush();
    for (const auto &sentence : std::as_const(sentences))
        speak(sentence);
    m_turn->reply = m_reply;
    emitLine(TranscriptLine::Speaker::Agent, m_reply, true);
    m_speaker->endReply(QStringLiteral("turn-%1").arg(m_turn->turnIndex()));
}

void CallSession::speak(const QString &sentence)
{
    if (m_turn)
        m_turn->stampNow(TurnStage::FirstSentence);
    m_replySentenceIds.append(m_speaker->say(sentence));
}

void CallSession::endWithGoodbye()
{
    if (m_state == CallState::Ended || m_hangUpAfterReply)
        return;
    if (!m_tenant) {
        m_leg->hangUp();
        end();
        return;
    }
    m_log.info("the engine is stopping: saying goodbye and hanging up");
    m_hangUpAfterReply = true;
    m_judgingDeadline.stop();
    m_interruption = Interruption::None;
    m_silenceBudget.stop();
    m_transcriptStable.stop();
    cancelPreemptiveReply("the engine is stopping");
    if (m_responder)
        m_responder->cancel();
    if (m_speaker->isSpeaking() || m_turn) {
        m_speaker->interrupt();
        m_leg->clearAudio();
    }
    if (m_turn)
        finishTurn();
    setState(CallState::Speaking);
    m_speaker->say(m_tenant->goodbyeLine);
    emitLine(TranscriptLine::Speaker::Agent, m_tenant->goodbyeLine, true);
    m_speaker->endReply(QStringLiteral("goodbye"));
}

void CallSession::onReplyPlayed()
{
    if (m_state == CallState::Ended)
        return;
    if (m_hangUpAfterReply) {
        m_leg->hangUp();
        end();
        return;
    }
    if (std::exchange(m_replyAwaitingPlayout, false))
        appendHistory(ConversationTurn::Role::Agent, m_reply.simplified());
    // Played whole: nothing of it can be cut any more.
    m_reply.clear();
    m_replySentenceIds.clear();
    m_replyInHistory = false;
    finishTurn();
    setState(CallState::Listening);
}

void CallSession::resumeInterruptedSentence()
{
    if (m_resumeSentences.isEmpty() || m_state == CallState::Ended || m_hangUpAfterReply) {
        if (m_state != CallState::Ended)
            setState(CallState::Listening);
        return;
    }
    // Said again from the start of the sentence the cut fell in: re-timing the
    // audio to the exact word would save a second and cost a glitch. What the
    // responder had not yet generated at the cut is lost (it was cancelled).
    if (m_resumeCutInHistory && !m_history.isEmpty() && m_history.last().role == ConversationTurn::Role::Agent)
        m_history.removeLast(); // the whole reply goes in once played
    m_reply = m_resumeHeardBefore;
    m_replySentenceIds.clear();
    m_replyInHistory = false;
    const QStringList sentences = std::exchange(m_resumeSentences, {});
    for (const QString &sentence : sentences) {
        m_reply += (m_reply.isEmpty() ? QString() : QStringLiteral(" ")) + sentence;
        m_replySentenceIds.append(m_speaker->say(sentence));
    }
    emitLine(TranscriptLine::Speaker::Agent, sentences.join(QLatin1Char(' ')), true);
    m_replyAwaitingPlayout = true;
    setState(CallState::Speaking);
    m_speaker->endReply(QStringLiteral("resume-%1").arg(m_turnIndex));
}

void CallSession::finishTurn()
{
    if (!m_turn)
        return;
    TurnTrace trace = *m_turn;
    m_turn.reset();
    m_traces.append(trace);
    m_log.info("turn {}: end of speech→endpointed {:.1f} ms, →stt final {:.1f} ms, →responder start {:.1f} ms, "
               "→first token {:.1f} ms, →tts start {:.1f} ms, →tts audio {:.1f} ms, →first frame {:.1f} ms{}",
               trace.turnIndex(), trace.msBetween(TurnStage::EndOfSpeech, TurnStage::Endpointed),
               trace.msBetween(TurnStage::EndOfSpeech, TurnStage::SttFinal),
               trace.msBetween(TurnStage::EndOfSpeech, TurnStage::ResponderStart),
               trace.msBetween(TurnStage::EndOfSpeech, TurnStage::FirstToken),
               trace.msBetween(TurnStage::EndOfSpeech, TurnStage::TtsStart),
               trace.msBetween(TurnStage::EndOfSpeech, TurnStage::TtsFirstAudio),
               trace.msBetween(TurnStage::EndOfSpeech, TurnStage::FirstFrameOut),
               trace.has(TurnStage::BargeIn) ? " (barged in)" : "");
    Q_EMIT turnCompleted(trace);
}

void CallSession::setState(CallState state)
{
    if (m_state == state || m_state == CallState::Ended)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void CallSession::emitLine(TranscriptLine::Speaker speaker, const QString &text, bool isFinal)
{
    Q_EMIT transcript(TranscriptLine{speaker, text, isFinal, m_turnIndex, monotonicNowNs()});
}

void CallSession::appendHistory(ConversationTurn::Role role, const QString &text)
{
    m_history.append(ConversationTurn{role, text});
    const int contextTurns = m_tenant ? m_tenant->maxTurnsInContext : kDefaultContextTurns;
    // A turn is one exchange: a caller utterance and the agent's reply.
    while (m_history.size() > contextTurns * 2)
        m_history.removeFirst();
    saveSession();
}

void CallSession::saveSession()
{
    if (!m_services.sessions || !m_tenant)
        return;
    SessionRecord record;
    record.tenantId = m_tenant->id;
    record.kind = QStringLiteral("call");
    record.id = m_info.callId;
    record.createdAt = m_startedAt;
    record.updatedAt = QDateTime::currentDateTimeUtc();
    for (const auto &turn : std::as_const(m_history))
        record.turns.append({turn.role == ConversationTurn::Role::Caller ? QStringLiteral("caller") : QStringLiteral("agent"), turn.text});
    // Fire and forget: the store answers later on this thread; a failed save
    // (Redis down) leaves the call running on its in-memory history.
    m_services.sessions->save(record);
}

void CallSession::end()
{
    if (m_state == CallState::Ended)
        return;
    m_silenceBudget.stop();
    m_judgingDeadline.stop();
    m_transcriptStable.stop();
    cancelPreemptiveReply("the call ended");
    m_interruption = Interruption::None;
    if (m_recognizer)
        m_recognizer->stop();
    if (m_responder)
        m_responder->cancel();
    m_speaker->interrupt();
    if (m_turn)
        finishTurn();
    setState(CallState::Ended);
    Q_EMIT ended(m_info.callId);
}

} // namespace apex
