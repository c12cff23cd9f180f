#pragma once

#include <QString>
#include <QTableView>

namespace apex {

class CallListModel;
class CallMonitor;

// The live and recent calls. The selected row is "the call" the other views
// show; with nothing selected the newest call is picked, so an operator who
// just opened the console sees the call that is happening.
class CallsView : public QTableView
{
    Q_OBJECT
public:
    explicit CallsView(CallMonitor *monitor, QWidget *parent = nullptr);

    QString selectedCallId() const { return m_selectedCallId; }

Q_SIGNALS:
    // Empty when the selection went away (the call was trimmed from history).
    void callSelected(const QString &callId);

private:
    void onRowsInserted();
    void onSelectionChanged();

    CallListModel *m_model;
    QString m_selectedCallId;
};

} // namespace apex
