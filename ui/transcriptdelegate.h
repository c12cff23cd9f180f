#pragma once

#include <QStyledItemDelegate>

namespace apex {

// Draws a caller's partial transcript (TranscriptModel::IsFinalRole false) grey
// and italic: it is still a guess the recogniser may rewrite, and the operator
// should be able to tell it from what was actually settled.
class TranscriptDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;
};

} // namespace apex
