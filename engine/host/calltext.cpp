#include "host/calltext.h"

#include "host/callmonitor.h"

namespace apex {

QString callAsText(const CallRecord &call)
{
    QString out;
    out += QStringLiteral("call %1 (tenant %2)\n").arg(call.callId, call.tenantId);
    for (const auto &line : call.lines) {
        if (!line.isFinal)
            continue;
        const char *who = line.speaker == TranscriptLine::Speaker::Caller ? "caller"
                          : line.speaker == TranscriptLine::Speaker::Agent ? "agent "
                                                                           : "system";
        if (line.unheardText().isEmpty())
            out += QStringLiteral("  %1: %2\n").arg(QLatin1String(who), line.text);
        else
            out += QStringLiteral("  %1: %2 [not heard: %3]\n").arg(QLatin1String(who), line.heardText(), line.unheardText());
    }
    for (const auto &turn : call.turns) {
        out += QStringLiteral("  turn %1 \"%2\":").arg(turn.turnIndex()).arg(turn.utterance);
        for (int i = int(TurnStage::Endpointed); i < kTurnStageCount; ++i) {
            const double ms = turn.msBetween(TurnStage::EndOfSpeech, TurnStage(i));
            if (ms >= 0)
                out += QStringLiteral(" %1=%2ms").arg(QLatin1String(turnStageName(TurnStage(i)))).arg(ms, 0, 'f', 1);
        }
        out += QLatin1Char('\n');
    }
    return out;
}

} // namespace apex
