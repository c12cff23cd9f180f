#pragma once

#include "observability/turntrace.h"

#include <QAbstractTableModel>
#include <QString>

namespace apex {

class CallMonitor;

// The selected call's turns, one row each. Each stage column holds how long
// that stage took (its moment minus the previous stage's that happened), so a
// row reads left to right as where the time went, and the stage columns add up
// to the Total column (the caller's last word to the reply's first frame). The
// cumulative time is in each cell's tooltip; blank when a stage did not happen.
class TurnLatencyModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        UtteranceColumn,
        EndpointingColumn,
        SttFinalColumn,
        FirstTokenColumn,
        FirstSentenceColumn,
        TtsFirstAudioColumn,
        FirstFrameOutColumn,
        TotalColumn,
        ColumnCount
    };
    // Qt::UserRole: the cell's duration in ms (-1 when blank); CumulativeMsRole:
    // ms after the caller's end of speech (-1 when blank).
    enum Role { DurationMsRole = Qt::UserRole, CumulativeMsRole };

    explicit TurnLatencyModel(CallMonitor *monitor, QObject *parent = nullptr);

    void setCallId(const QString &callId);

    // The trace stage whose moment ends a stage column (the Total ends at the first frame).
    static TurnStage stageOf(int column);
    // A stage column's duration for `trace`, or -1: the column's moment minus
    // the latest earlier column's moment that happened (end of speech at first).
    static double durationMs(const TurnTrace &trace, int column);
    // A column's header ("Endpointing", "STT final", ..., "Total").
    static QString columnTitle(int column);

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
