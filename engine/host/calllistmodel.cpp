#include "host/calllistmodel.h"

#include "host/callmonitor.h"

namespace apex {

namespace {

QString durationText(qint64 ms)
{
    const qint64 seconds = ms / 1000;
    if (seconds >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(seconds / 3600)
            .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

QString latencyText(double ms)
{
    return ms < 0 ? QString() : QString::number(ms, 'f', 0) + QStringLiteral(" ms");
}

QString tenantText(const CallRecord &call)
{
    return call.tenantName.isEmpty() ? call.tenantId : call.tenantName;
}

} // namespace

CallListModel::CallListModel(CallMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
    , m_monitor(monitor)
    , m_rows(monitor->count())
{
    connect(monitor, &CallMonitor::callAdded, this, [this](int row) {
        beginInsertRows({}, row, row);
        ++m_rows;
        endInsertRows();
        if (!m_durationTimer.isActive())
            m_durationTimer.start();
    });
    connect(monitor, &CallMonitor::aboutToRemoveCall, this, [this](int row) { beginRemoveRows({}, row, row); });
    connect(monitor, &CallMonitor::callRemoved, this, [this](int) {
        --m_rows;
        endRemoveRows();
    });
    connect(monitor, &CallMonitor::callChanged, this, [this](int row) {
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    });
    m_durationTimer.setInterval(kDurationRefreshMs);
    connect(&m_durationTimer, &QTimer::timeout, this, &CallListModel::refreshDurations);
    if (m_rows > 0)
        m_durationTimer.start();
}

void CallListModel::refreshDurations()
{
    bool anyLive = false;
    for (int row = 0; row < m_rows; ++row) {
        if (!m_monitor->at(row).isLive())
            continue;
        anyLive = true;
        const QModelIndex cell = index(row, DurationColumn);
        Q_EMIT dataChanged(cell, cell, {Qt::DisplayRole, SortRole});
    }
    if (!anyLive)
        m_durationTimer.stop(); // started again by the next call
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
        return call.isLive();
    if (role == Qt::ToolTipRole) {
        QString tip = tr("Call %1").arg(call.callId);
        if (!call.calledNumber.isEmpty())
            tip += QLatin1Char('\n') + tr("To %1").arg(call.calledNumber);
        tip += QLatin1Char('\n') + tr("Tenant %1 (%2)").arg(tenantText(call), call.tenantId);
        tip += QLatin1Char('\n') + tr("Started %1").arg(call.startedAt.toString(Qt::ISODate));
        if (call.endedAt.isValid())
            tip += QLatin1Char('\n') + tr("Ended %1").arg(call.endedAt.toString(Qt::ISODate));
        return tip;
    }
    if (role == SortRole) {
        switch (index.column()) {
        case NumberColumn: return call.callerNumber;
        case TenantColumn: return tenantText(call).toLower();
        case StartedColumn: return call.startedAt;
        case DurationColumn: return call.durationMs(QDateTime::currentDateTime());
        case StateColumn: return int(call.state);
        case TurnsColumn: return int(call.turns.size());
        case LastLatencyColumn: return call.lastReplyMs();
        case WorstLatencyColumn: return call.worstReplyMs();
        case CallColumn: return call.callId;
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case DurationColumn:
        case TurnsColumn:
        case LastLatencyColumn:
        case WorstLatencyColumn: return int(Qt::AlignRight | Qt::AlignVCenter);
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case NumberColumn: return call.callerNumber.isEmpty() ? tr("unknown") : call.callerNumber;
    case TenantColumn: return tenantText(call);
    case StartedColumn: return call.startedAt.toString(QStringLiteral("HH:mm:ss"));
    case DurationColumn: return durationText(call.durationMs(QDateTime::currentDateTime()));
    case StateColumn: return QString::fromLatin1(callStateName(call.state));
    case TurnsColumn: return int(call.turns.size());
    case LastLatencyColumn: return latencyText(call.lastReplyMs());
    case WorstLatencyColumn: return latencyText(call.worstReplyMs());
    case CallColumn: return call.callId;
    default: return {};
    }
}

QVariant CallListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case LastLatencyColumn: return tr("The last turn: caller's last word to the reply's first frame");
        case WorstLatencyColumn: return tr("The slowest turn of the call: caller's last word to the reply's first frame");
        case CallColumn: return tr("The engine's call id (Twilio CallSid)");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NumberColumn: return tr("Caller");
    case TenantColumn: return tr("Tenant");
    case StartedColumn: return tr("Started");
    case DurationColumn: return tr("Duration");
    case StateColumn: return tr("State");
    case TurnsColumn: return tr("Turns");
    case LastLatencyColumn: return tr("Last reply");
    case WorstLatencyColumn: return tr("Worst reply");
    case CallColumn: return tr("Call id");
    default: return {};
    }
}

} // namespace apex
