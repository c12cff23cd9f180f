#include "stt/deepgram/deepgramturnassembler.h"

namespace apex {

namespace {
// Word times are rounded to milliseconds on the wire.
constexpr double kTimeSlackSec = 0.005;
} // namespace

DeepgramTurnAssembler::Update DeepgramTurnAssembler::onSpeechStarted()
{
    Update update;
    if (!m_inSpeech) {
        m_inSpeech = true;
        update.speechStarted = true;
    }
    return update;
}

DeepgramTurnAssembler::Update DeepgramTurnAssembler::onResults(const Result &result)
{
    Update update;
    const QString text = result.transcript.trimmed();
    if (!result.isFinal) {
        if (text.isEmpty())
            return update;
        // A non-empty interim confirms speech even when SpeechStarted was missed
        // (vad_events off at the server, or the event lost in a reconnect).
        if (!m_inSpeech) {
            m_inSpeech = true;
            update.speechStarted = true;
        }
        const QString preview = joined(text);
        if (preview != m_lastPartial) {
            m_lastPartial = preview;
            update.partial = preview;
        }
        return update;
    }

    if (!text.isEmpty()) {
        if (!m_inSpeech) {
            m_inSpeech = true;
            update.speechStarted = true;
        }
        m_finals.append(text);
        if (result.lastWordEndSec > m_pendingWordEndSec)
            m_pendingWordEndSec = result.lastWordEndSec;
        const QString preview = joined();
        if (preview != m_lastPartial) {
            m_lastPartial = preview;
            update.partial = preview;
        }
    }
    if (result.speechFinal && (!m_finals.isEmpty() || m_inSpeech)) {
        // An empty turn after a SpeechStarted (noise) is still closed, so the
        // pipeline leaves its barge-in state and the next onset is reported.
        const Update end = endTurn();
        update.finalText = end.finalText;
    }
    return update;
}

DeepgramTurnAssembler::Update DeepgramTurnAssembler::onUtteranceEnd(double lastWordEndSec)
{
    // Empty buffer: speech_final already ended this turn. A last_word_end older
    // than the pending words belongs to the previous utterance (jambonz#1088):
    // ending the turn now would cut the caller off mid-sentence.
    if (m_finals.isEmpty())
        return {};
    if (lastWordEndSec >= 0 && lastWordEndSec + kTimeSlackSec < m_pendingWordEndSec)
        return {};
    return endTurn();
}

DeepgramTurnAssembler::Update DeepgramTurnAssembler::endTurn()
{
    Update update;
    update.finalText = m_finals.join(QLatin1Char(' '));
    m_finals.clear();
    m_pendingWordEndSec = -1.0;
    m_inSpeech = false;
    m_lastPartial.clear();
    return update;
}

QString DeepgramTurnAssembler::joined(const QString &tail) const
{
    QStringList parts = m_finals;
    if (!tail.isEmpty())
        parts.append(tail);
    return parts.join(QLatin1Char(' '));
}

} // namespace apex
