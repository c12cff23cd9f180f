#include "host/callmonitor.h"

namespace apex {

CallMonitor::CallMonitor(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<apex::TranscriptLine>();
    qRegisterMetaType<apex::TurnTrace>();
    qRegisterMetaType<apex::CallState>();
}

const CallRecord *CallMonitor::find(const QString &callId) const
{
    const int row = rowOf(callId);
    return row < 0 ? nullptr : &m_calls.at(row);
}

CallRecord *CallMonitor::record(const QString &callId)
{
    const int row = rowOf(callId);
    return row < 0 ? nullptr : &m_calls[row];
}

void CallMonitor::onCallStarted(const QString &callId, const QString &tenantId)
{
    if (m_rows.contains(callId))
        return;
    trim();
    CallRecord call;
    call.callId = callId;
    call.tenantId = tenantId;
    call.startedAt = QDateTime::currentDateTime();
    m_calls.append(call);
    m_rows.insert(callId, int(m_calls.size()) - 1);
    Q_EMIT callAdded(int(m_calls.size()) - 1);
}

void CallMonitor::onStateChanged(const QString &callId, CallState state)
{
    if (auto *call = record(callId)) {
        call->state = state;
        Q_EMIT callChanged(rowOf(callId));
    }
}

void CallMonitor::onTranscript(const QString &callId, const TranscriptLine &line)
{
    auto *call = record(callId);
    if (!call)
        return;
    auto &lines = call->lines;
    const bool replacesPartial = !lines.isEmpty() && lines.last().speaker == TranscriptLine::Speaker::Caller
                                 && !lines.last().isFinal && line.speaker == TranscriptLine::Speaker::Caller;
    if (replacesPartial) {
        if (line.isFinal && line.text.isEmpty()) {
            // The utterance came to nothing: the grey partial goes away.
            lines.removeLast();
            Q_EMIT transcriptChanged(callId, int(lines.size()), false);
            return;
        }
        lines.last() = line;
        Q_EMIT transcriptChanged(callId, int(lines.size()) - 1, false);
        return;
    }
    if (line.wasCut()) {
        // The reply that was cut off replaces its turn's agent line, if that
        // was shown already (it is when the reply had been generated whole).
        for (qsizetype i = lines.size() - 1; i >= 0; --i) {
            if (lines.at(i).speaker == TranscriptLine::Speaker::Agent && lines.at(i).turnIndex == line.turnIndex) {
                lines[i] = line;
                Q_EMIT transcriptChanged(callId, int(i), false);
                return;
            }
            if (lines.at(i).turnIndex != line.turnIndex)
                break;
        }
    }
    if (line.text.isEmpty())
        return;
    lines.append(line);
    Q_EMIT transcriptChanged(callId, int(lines.size()) - 1, true);
}

void CallMonitor::onTurnCompleted(const QString &callId, const TurnTrace &trace)
{
    if (auto *call = record(callId)) {
        call->turns.append(trace);
        Q_EMIT turnAdded(callId, int(call->turns.size()) - 1);
        Q_EMIT callChanged(rowOf(callId));
    }
}

void CallMonitor::trim()
{
    while (m_calls.size() >= m_historyLimit) {
        int victim = -1;
        for (int i = 0; i < m_calls.size(); ++i) {
            if (m_calls.at(i).state == CallState::Ended) {
                victim = i;
                break;
            }
        }
        if (victim < 0)
            return; // every call is live: keep them all
        Q_EMIT aboutToRemoveCall(victim);
        m_calls.removeAt(victim);
        m_rows.clear();
        for (int i = 0; i < m_calls.size(); ++i)
            m_rows.insert(m_calls.at(i).callId, i);
        Q_EMIT callRemoved(victim);
    }
}

} // namespace apex
