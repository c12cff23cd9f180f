#include "ui/callsview.h"

#include "host/callfilterproxymodel.h"
#include "host/calllistmodel.h"

#include "ui/readonlytable.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QVBoxLayout>

namespace apex {

CallsView::CallsView(CallMonitor *monitor, QWidget *parent)
    : QTableView(parent)
    , m_model(new CallListModel(monitor, this))
    , m_proxy(new CallFilterProxyModel(this))
{
    setObjectName(QStringLiteral("callsView"));
    m_proxy->setSourceModel(m_model);
    setModel(m_proxy);
    setUpReadOnlyTable(this);
    verticalHeader()->hide();
    horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    horizontalHeader()->setStretchLastSection(true);
    horizontalHeader()->setSortIndicator(CallListModel::StartedColumn, Qt::DescendingOrder);
    setSortingEnabled(true);

    // Queued: a burst of new calls (attaching to a busy engine) ends with the
    // newest selected, and the selection reaches the other views after the
    // monitor has finished emitting rather than from inside its signal.
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &CallsView::onRowsInserted, Qt::QueuedConnection);
    connect(selectionModel(), &QItemSelectionModel::selectionChanged, this, &CallsView::onSelectionChanged);
    // A trimmed or filtered-out selected call leaves no selection behind; pick the top one again.
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &CallsView::onSelectionChanged);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &CallsView::onSelectionChanged);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &CallsView::onSelectionChanged);
}

void CallsView::onRowsInserted()
{
    if (selectionModel()->hasSelection() || m_proxy->rowCount() == 0)
        return;
    selectRow(0);
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

CallsPanel::CallsPanel(CallMonitor *monitor, QWidget *parent)
    : QWidget(parent)
    , m_filter(new QComboBox)
    , m_view(new CallsView(monitor))
{
    setObjectName(QStringLiteral("callsPanel"));
    m_filter->setObjectName(QStringLiteral("callFilter"));
    m_filter->addItem(tr("All calls"), QVariant::fromValue(CallFilterProxyModel::CallFilter::All));
    m_filter->addItem(tr("Live"), QVariant::fromValue(CallFilterProxyModel::CallFilter::Live));
    m_filter->addItem(tr("Ended"), QVariant::fromValue(CallFilterProxyModel::CallFilter::Ended));
    connect(m_filter, &QComboBox::currentIndexChanged, this, [this] {
        m_view->proxy()->setCallFilter(m_filter->currentData().value<CallFilterProxyModel::CallFilter>());
    });

    auto *top = new QHBoxLayout;
    auto *label = new QLabel(tr("&Show:"));
    label->setBuddy(m_filter);
    top->addWidget(label);
    top->addWidget(m_filter);
    top->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_view);
}

} // namespace apex
