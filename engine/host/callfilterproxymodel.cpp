#include "host/callfilterproxymodel.h"

#include "host/calllistmodel.h"

#include <QDateTime>

namespace apex {

CallFilterProxyModel::CallFilterProxyModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(CallListModel::SortRole);
    setDynamicSortFilter(true);
    sort(CallListModel::StartedColumn, Qt::DescendingOrder);
}

void CallFilterProxyModel::setCallFilter(CallFilter filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    invalidateRowsFilter();
}

bool CallFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (m_filter == CallFilter::All)
        return true;
    const bool live = sourceModel()->index(sourceRow, 0, sourceParent).data(CallListModel::IsLiveRole).toBool();
    return m_filter == CallFilter::Live ? live : !live;
}

bool CallFilterProxyModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant a = left.data(sortRole());
    const QVariant b = right.data(sortRole());
    // A blank figure (no turn answered yet, number unknown) sorts below any figure.
    const auto blank = [](const QVariant &v) {
        return !v.isValid() || (v.typeId() == QMetaType::Double && v.toDouble() < 0)
               || (v.typeId() == QMetaType::QString && v.toString().isEmpty());
    };
    if (blank(a) != blank(b))
        return blank(a);
    QPartialOrdering order = QVariant::compare(a, b);
    if (a.typeId() == QMetaType::QString && b.typeId() == QMetaType::QString) {
        const int c = QString::localeAwareCompare(a.toString(), b.toString());
        order = c < 0 ? QPartialOrdering::Less : c > 0 ? QPartialOrdering::Greater : QPartialOrdering::Equivalent;
    }
    if (order == QPartialOrdering::Equivalent || order == QPartialOrdering::Unordered) {
        // Ties go by start (the monitor's order: a later row started later), so
        // equal figures keep the newest call on top when sorted descending.
        return left.row() < right.row();
    }
    return order == QPartialOrdering::Less;
}

} // namespace apex
