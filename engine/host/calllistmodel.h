#pragma once

#include <QAbstractTableModel>

namespace apex {

class CallMonitor;

// Live and recent calls, one row each. Widgets-free so the console, tests and a
// future web view can share it.
class CallListModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { CallColumn, TenantColumn, StateColumn, TurnsColumn, LastLatencyColumn, ColumnCount };
    enum Role { CallIdRole = Qt::UserRole + 1, IsLiveRole };

    explicit CallListModel(CallMonitor *monitor, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    CallMonitor *m_monitor;
    int m_rows = 0; // rows announced to views: the monitor appends before it signals
};

} // namespace apex
