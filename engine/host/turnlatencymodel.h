#pragma once

#include <QAbstractTableModel>
#include <QString>

namespace apex {

class CallMonitor;

// The selected call's turns, one row each; columns are the trace's stages in
// milliseconds after the caller's end of speech (blank when a stage did not happen).
class TurnLatencyModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    explicit TurnLatencyModel(CallMonitor *monitor, QObject *parent = nullptr);

    void setCallId(const QString &callId);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    CallMonitor *m_monitor;
    QString m_callId;
    int m_rows = 0;
};

} // namespace apex
