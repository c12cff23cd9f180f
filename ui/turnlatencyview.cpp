#include "ui/turnlatencyview.h"

#include "host/turnlatencymodel.h"

#include "ui/readonlytable.h"

#include <QHeaderView>

namespace apex {

TurnLatencyView::TurnLatencyView(CallMonitor *monitor, QWidget *parent)
    : QTableView(parent)
    , m_model(new TurnLatencyModel(monitor, this))
{
    setObjectName(QStringLiteral("turnLatencyView"));
    setModel(m_model);
    setUpReadOnlyTable(this);
    horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    horizontalHeader()->setMinimumSectionSize(60);

    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        QMetaObject::invokeMethod(this, &QAbstractItemView::scrollToBottom, Qt::QueuedConnection);
    });
}

void TurnLatencyView::setCallId(const QString &callId)
{
    m_model->setCallId(callId);
}

} // namespace apex
