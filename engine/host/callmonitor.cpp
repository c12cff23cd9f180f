#include "host/callmonitor.h"

#include <algorithm>

namespace apex {

CallMonitor::CallMonitor(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<apex::TranscriptLine>();
    qRegisterMetaType<apex::TurnTrace>();
    qRegisterMetaType<apex::CallState>();
}

namespace {
double replyMs(const TurnTrace &turn)
{
    return turn.msBetween(TurnStage::EndOfSpeech, TurnStage::FirstFrameOut);
}
} // namespace

qint64 CallRecord::durationMs(const QDateTime &now) const
{
    if (!startedAt.isValid())
        return 0;
    return std::max<qint64>(0, startedAt.msecsTo(endedAt.isValid() ? endedAt : now));
}

double CallRecord::lastReplyMs() const
{
    for (auto it = turns.crbegin(); it != turns.crend(); ++it) {
        const double ms = replyMs(*it);
        if (ms >= 0)
            return ms;
    }
    return -1;
}

double CallRecord::worstReplyMs() const
{
    double worst = -1;
    for (const TurnTrace &turn : turns)
        worst = std::max(worst, replyMs(turn));
    return worst;
}

void CallMonitor::setTenantNames(const QHash<QString, QString> &names)
{
    m_tenantNames = names;
    for (int row = 0; row < m_calls.size(); ++row) {
        const QString name = names.value(m_calls.at(row).tenantId);
        if (name != m_calls.at(row).tenantName) {
            m_calls[row].tenantName = name;
            Q_EMIT callChanged(row);
        }
    }
}

void CallMonitor::onCallParties(const QString &callId, const QString &from, const QString &to)
{
    if (auto *call = record(callId)) {
        call->callerNumber = from;
        call->calledNumber = to;
        Q_EMIT callChanged(rowOf(callId));
    }
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
    call.tenantName = m_tenantNames.value(tenantId);
    call.startedAt = QDateTime::currentDateTime();
    m_calls.append(call);
    m_rows.insert(callId, int(m_calls.size()) - 1);
    Q_EMIT callAdded(int(m_calls.size()) - 1);
}

void CallMonitor::onStateChanged(const QString &callId, CallState state)
{
    if (auto *call = record(callId)) {
        call->state = state;
        if (state == CallState::Ended && !call->endedAt.isValid())
            call->endedAt = QDateTime::currentDateTime();
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
