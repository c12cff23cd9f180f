#pragma once

#include <QSortFilterProxyModel>

namespace apex {

// The calls list as a view shows it: sorted on CallListModel::SortRole (newest
// first unless told otherwise) and filtered to live or ended calls.
// Widgets-free; the view's selection survives re-sorting because the proxy
// keeps persistent indexes.
class CallFilterProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    enum class CallFilter { All, Live, Ended };
    Q_ENUM(CallFilter)

    explicit CallFilterProxyModel(QObject *parent = nullptr);

    void setCallFilter(CallFilter filter);
    CallFilter callFilter() const { return m_filter; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    CallFilter m_filter = CallFilter::All;
};

} // namespace apex
