#include "observability/turntrace.h"

#include "observability/clock.h"

#include <QJsonArray>

#include <algorithm>

namespace apex {

const char *turnStageName(TurnStage stage)
{
    switch (stage) {
    case TurnStage::EndOfSpeech: return "end_of_speech";
    case TurnStage::Endpointed: return "endpointed";
    case TurnStage::SttFinal: return "stt_final";
    case TurnStage::ResponderStart: return "responder_start";
    case TurnStage::LlmRequestSent: return "llm_request_sent";
    case TurnStage::FirstToken: return "first_token";
    case TurnStage::FirstSentence: return "first_sentence";
    case TurnStage::TtsStart: return "tts_start";
    case TurnStage::TtsRequestSent: return "tts_request_sent";
    case TurnStage::TtsFirstAudio: return "tts_first_audio";
    case TurnStage::FirstFrameOut: return "first_frame_out";
    case TurnStage::BargeIn: return "barge_in";
    }
    return "unknown";
}

void TurnTrace::stamp(TurnStage stage, std::int64_t monotonicNs)
{
    auto &slot = m_ns[size_t(stage)];
    if (slot < 0)
        slot = monotonicNs;
}

void TurnTrace::stampNow(TurnStage stage) { stamp(stage, monotonicNowNs()); }

double TurnTrace::msBetween(TurnStage from, TurnStage to) const
{
    if (!has(from) || !has(to))
        return -1.0;
    return nsToMs(at(to) - at(from));
}

QJsonObject TurnTrace::toJson() const
{
    std::int64_t origin = has(TurnStage::EndOfSpeech) ? at(TurnStage::EndOfSpeech) : -1;
    if (origin < 0) {
        for (auto ns : m_ns)
            if (ns >= 0 && (origin < 0 || ns < origin))
                origin = ns;
    }
    QJsonObject stages;
    for (int i = 0; i < kTurnStageCount; ++i) {
        const auto stage = TurnStage(i);
        if (has(stage))
            stages.insert(QLatin1String(turnStageName(stage)), nsToMs(at(stage) - origin));
    }
    QJsonObject out{{QStringLiteral("turn"), m_turnIndex},
                    {QStringLiteral("utterance"), utterance},
                    {QStringLiteral("reply"), reply},
                    {QStringLiteral("stagesMs"), stages}};
    if (has(TurnStage::BargeIn))
        out.insert(QStringLiteral("replyHeard"), replyHeard);
    if (!bargeInDecisions.isEmpty())
        out.insert(QStringLiteral("bargeInDecisions"), QJsonArray::fromStringList(bargeInDecisions));
    if (preemptive)
        out.insert(QStringLiteral("preemptiveSentMs"), nsToMs(preemptiveSentNs - origin));
    if (completionTokens >= 0) {
        out.insert(QStringLiteral("promptTokens"), promptTokens);
        out.insert(QStringLiteral("completionTokens"), completionTokens);
        out.insert(QStringLiteral("tokensPerSecond"), tokensPerSecond);
    }
    return out;
}

} // namespace apex
