#pragma once

#include <QAbstractTableModel>
#include <QTimer>

namespace apex {

class CallMonitor;

// Live and recent calls, one row each, in the monitor's order (oldest first);
// CallFilterProxyModel sorts and filters them for a view. Widgets-free so the
// console, tests and a future web view can share it.
class CallListModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        NumberColumn,
        TenantColumn,
        StartedColumn,
        DurationColumn,
        StateColumn,
        TurnsColumn,
        LastLatencyColumn,
        WorstLatencyColumn,
        CallColumn, // the engine's call id: kept for support, not to tell calls apart
        ColumnCount
    };
    enum Role {
        CallIdRole = Qt::UserRole + 1,
        IsLiveRole,
        SortRole, // a column's raw value (numbers, times) for sorting
    };
    // A live call's duration changes on its own: rows are refreshed this often.
    static constexpr int kDurationRefreshMs = 1000;

    explicit CallListModel(CallMonitor *monitor, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void refreshDurations();

    CallMonitor *m_monitor;
    int m_rows = 0; // rows announced to views: the monitor appends before it signals
    QTimer m_durationTimer;
};

} // namespace apex
