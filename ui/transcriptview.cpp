#include "ui/transcriptview.h"

#include "ui/transcriptdelegate.h"

#include "host/transcriptmodel.h"

#include <QScrollBar>

namespace apex {

TranscriptView::TranscriptView(CallMonitor *monitor, QWidget *parent)
    : QListView(parent)
    , m_model(new TranscriptModel(monitor, this))
{
    setObjectName(QStringLiteral("transcriptView"));
    setModel(m_model);
    setItemDelegate(new TranscriptDelegate(this));
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionMode(QAbstractItemView::NoSelection);
    setWordWrap(true);
    setResizeMode(QListView::Adjust);
    setSpacing(2);
    setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);

    // Sample "was the operator at the bottom" before the change lands: after it,
    // the new row has already pushed the maximum away.
    connect(m_model, &QAbstractItemModel::rowsAboutToBeInserted, this, &TranscriptView::rememberIfFollowing);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &TranscriptView::followIfWasFollowing);
    // A partial growing into a longer line can wrap onto another row.
    connect(m_model, &QAbstractItemModel::dataChanged, this, [this] {
        rememberIfFollowing();
        followIfWasFollowing();
    });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        m_following = true;
        followIfWasFollowing();
    });
}

void TranscriptView::setCallId(const QString &callId)
{
    if (callId != m_model->callId())
        m_model->setCallId(callId);
}

QString TranscriptView::callId() const
{
    return m_model->callId();
}

void TranscriptView::rememberIfFollowing()
{
    const QScrollBar *bar = verticalScrollBar();
    m_following = bar->value() >= bar->maximum();
}

void TranscriptView::followIfWasFollowing()
{
    if (!m_following)
        return;
    // The layout of the new rows is computed lazily: scroll once it exists.
    QMetaObject::invokeMethod(this, &QAbstractItemView::scrollToBottom, Qt::QueuedConnection);
}

} // namespace apex
