#include "ui/transcriptdelegate.h"

#include "host/transcriptmodel.h"

namespace apex {

void TranscriptDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    const QVariant isFinal = index.data(TranscriptModel::IsFinalRole);
    if (!isFinal.isValid() || isFinal.toBool())
        return;
    option->font.setItalic(true);
    // Disabled text colour rather than a fixed grey, so dark themes stay readable.
    const QColor grey = option->palette.color(QPalette::Disabled, QPalette::Text);
    option->palette.setColor(QPalette::Text, grey);
    option->palette.setColor(QPalette::HighlightedText, grey);
}

} // namespace apex
