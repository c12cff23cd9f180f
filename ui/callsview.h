#pragma once

#include <QString>
#include <QTableView>
#include <QWidget>

class QComboBox;

namespace apex {

class CallFilterProxyModel;
class CallListModel;
class CallMonitor;

// The live and recent calls, newest on top (any column sorts on a header
// click). The selected row is "the call" the other views show; with nothing
// selected the top call is picked, so an operator who just opened the console
// sees the call that is happening. Sorting and new calls keep the selection.
class CallsView : public QTableView
{
    Q_OBJECT
public:
    explicit CallsView(CallMonitor *monitor, QWidget *parent = nullptr);

    QString selectedCallId() const { return m_selectedCallId; }
    CallFilterProxyModel *proxy() const { return m_proxy; }

Q_SIGNALS:
    // Empty when the selection went away (the call was trimmed from history
    // or filtered out).
    void callSelected(const QString &callId);

private:
    void onRowsInserted();
    void onSelectionChanged();

    CallListModel *m_model;
    CallFilterProxyModel *m_proxy;
    QString m_selectedCallId;
};

// The calls dock's contents: a live/ended filter above the list.
class CallsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit CallsPanel(CallMonitor *monitor, QWidget *parent = nullptr);

    CallsView *view() const { return m_view; }

private:
    QComboBox *m_filter;
    CallsView *m_view;
};

} // namespace apex
