#include "ui/callsview.h"

#include "host/calllistmodel.h"

#include "ui/readonlytable.h"

#include <QHeaderView>
#include <QItemSelectionModel>

namespace apex {

CallsView::CallsView(CallMonitor *monitor, QWidget *parent)
    : QTableView(parent)
    , m_model(new CallListModel(monitor, this))
{
    setObjectName(QStringLiteral("callsView"));
    setModel(m_model);
    setUpReadOnlyTable(this);
    verticalHeader()->hide();
    horizontalHeader()->setSectionResizeMode(CallListModel::CallColumn, QHeaderView::Stretch);

    // Queued: a burst of new calls (attaching to a busy engine) ends with the
    // newest selected, and the selection reaches the other views after the
    // monitor has finished emitting rather than from inside its signal.
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &CallsView::onRowsInserted, Qt::QueuedConnection);
    connect(selectionModel(), &QItemSelectionModel::selectionChanged, this, &CallsView::onSelectionChanged);
    // A trimmed selected call leaves no selection behind; pick the newest again.
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &CallsView::onSelectionChanged);
}

void CallsView::onRowsInserted()
{
    if (selectionModel()->hasSelection() || m_model->rowCount() == 0)
        return;
    selectRow(m_model->rowCount() - 1);
}

void CallsView::onSelectionChanged()
{
    const QModelIndexList rows = selectionModel()->selectedRows();
    const QString callId = rows.isEmpty() ? QString() : rows.first().data(CallListModel::CallIdRole).toString();
    if (callId != m_selectedCallId) {
        m_selectedCallId = callId;
        Q_EMIT callSelected(callId);
    }
    if (callId.isEmpty())
        onRowsInserted();
}

} // namespace apex
