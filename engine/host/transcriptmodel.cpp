#include "host/transcriptmodel.h"

#include "host/callmonitor.h"

namespace apex {

namespace {

QString speakerName(TranscriptLine::Speaker speaker)
{
    switch (speaker) {
    case TranscriptLine::Speaker::Caller: return QStringLiteral("Caller");
    case TranscriptLine::Speaker::Agent: return QStringLiteral("Agent");
    case TranscriptLine::Speaker::System: return QStringLiteral("System");
    }
    return {};
}

} // namespace

TranscriptModel::TranscriptModel(CallMonitor *monitor, QObject *parent)
    : QAbstractListModel(parent)
    , m_monitor(monitor)
{
    connect(monitor, &CallMonitor::transcriptChanged, this, [this](const QString &callId, int row, bool appended) {
        if (callId != m_callId)
            return;
        const CallRecord *call = m_monitor->find(callId);
        const int now = call ? int(call->lines.size()) : 0;
        if (appended && now == m_rows + 1) {
            beginInsertRows({}, m_rows, m_rows);
            m_rows = now;
            endInsertRows();
        } else if (now == m_rows - 1) {
            beginRemoveRows({}, now, now);
            m_rows = now;
            endRemoveRows();
        } else if (now == m_rows) {
            Q_EMIT dataChanged(index(row), index(row));
        } else {
            beginResetModel();
            m_rows = now;
            endResetModel();
        }
    });
    connect(monitor, &CallMonitor::aboutToRemoveCall, this, [this](int row) {
        if (m_monitor->at(row).callId == m_callId)
            setCallId({});
    });
}

void TranscriptModel::setCallId(const QString &callId)
{
    beginResetModel();
    m_callId = callId;
    const CallRecord *call = m_monitor->find(callId);
    m_rows = call ? int(call->lines.size()) : 0;
    endResetModel();
}

int TranscriptModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

QVariant TranscriptModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const CallRecord *call = m_monitor->find(m_callId);
    if (!call || index.row() >= call->lines.size())
        return {};
    const TranscriptLine &line = call->lines.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        if (!line.unheardText().isEmpty())
            return speakerName(line.speaker) + QStringLiteral(": ") + line.heardText() + QStringLiteral(" [not heard: ")
                   + line.unheardText() + QLatin1Char(']');
        return speakerName(line.speaker) + QStringLiteral(": ") + line.text;
    case SpeakerRole: return speakerName(line.speaker);
    case TextRole: return line.text;
    case IsFinalRole: return line.isFinal;
    case TurnRole: return line.turnIndex;
    case HeardTextRole: return line.heardText();
    case UnheardTextRole: return line.unheardText();
    default: return {};
    }
}

} // namespace apex
