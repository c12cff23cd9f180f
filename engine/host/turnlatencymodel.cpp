#include "host/turnlatencymodel.h"

#include "host/callmonitor.h"

namespace apex {

namespace {
// Column 0 is the utterance; the rest are the stages after end of speech.
constexpr int kFirstStageColumn = 1;
} // namespace

TurnLatencyModel::TurnLatencyModel(CallMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
    , m_monitor(monitor)
{
    connect(monitor, &CallMonitor::turnAdded, this, [this](const QString &callId, int row) {
        if (callId != m_callId || row != m_rows)
            return;
        beginInsertRows({}, row, row);
        ++m_rows;
        endInsertRows();
    });
    connect(monitor, &CallMonitor::aboutToRemoveCall, this, [this](int row) {
        if (m_monitor->at(row).callId == m_callId)
            setCallId({});
    });
}

void TurnLatencyModel::setCallId(const QString &callId)
{
    beginResetModel();
    m_callId = callId;
    const CallRecord *call = m_monitor->find(callId);
    m_rows = call ? int(call->turns.size()) : 0;
    endResetModel();
}

int TurnLatencyModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

int TurnLatencyModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : kFirstStageColumn + kTurnStageCount - 1;
}

QVariant TurnLatencyModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const CallRecord *call = m_monitor->find(m_callId);
    if (!call || index.row() >= call->turns.size())
        return {};
    const TurnTrace &trace = call->turns.at(index.row());
    if (index.column() == 0)
        return role == Qt::DisplayRole || role == Qt::ToolTipRole ? QVariant(trace.utterance) : QVariant();
    const auto stage = TurnStage(index.column() - kFirstStageColumn + 1);
    const double ms = trace.msBetween(TurnStage::EndOfSpeech, stage);
    if (role == Qt::UserRole)
        return ms;
    if (role != Qt::DisplayRole || ms < 0)
        return {};
    return QString::number(ms, 'f', 1);
}

QVariant TurnLatencyModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return section + 1;
    if (section == 0)
        return tr("Caller said");
    return QString::fromLatin1(turnStageName(TurnStage(section - kFirstStageColumn + 1))) + QStringLiteral(" (ms)");
}

} // namespace apex
