#include "host/calllistmodel.h"

#include "host/callmonitor.h"

namespace apex {

CallListModel::CallListModel(CallMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
    , m_monitor(monitor)
    , m_rows(monitor->count())
{
    connect(monitor, &CallMonitor::callAdded, this, [this](int row) {
        beginInsertRows({}, row, row);
        ++m_rows;
        endInsertRows();
    });
    connect(monitor, &CallMonitor::aboutToRemoveCall, this, [this](int row) { beginRemoveRows({}, row, row); });
    connect(monitor, &CallMonitor::callRemoved, this, [this](int) {
        --m_rows;
        endRemoveRows();
    });
    connect(monitor, &CallMonitor::callChanged, this, [this](int row) {
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    });
}

int CallListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

int CallListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CallListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const CallRecord &call = m_monitor->at(index.row());
    if (role == CallIdRole)
        return call.callId;
    if (role == IsLiveRole)
        return call.state != CallState::Ended;
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (index.column()) {
    case CallColumn: return call.callId;
    case TenantColumn: return call.tenantId;
    case StateColumn: return QString::fromLatin1(callStateName(call.state));
    case TurnsColumn: return int(call.turns.size());
    case LastLatencyColumn: {
        for (auto it = call.turns.crbegin(); it != call.turns.crend(); ++it) {
            const double ms = it->msBetween(TurnStage::EndOfSpeech, TurnStage::FirstFrameOut);
            if (ms >= 0)
                return QString::number(ms, 'f', 0) + QStringLiteral(" ms");
        }
        return QString();
    }
    default: return {};
    }
}

QVariant CallListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case CallColumn: return tr("Call");
    case TenantColumn: return tr("Tenant");
    case StateColumn: return tr("State");
    case TurnsColumn: return tr("Turns");
    case LastLatencyColumn: return tr("Last reply after");
    default: return {};
    }
}

} // namespace apex
