#include "ui/turnwaterfallview.h"

#include "host/callmonitor.h"
#include "host/turnlatencymodel.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

namespace apex {

namespace {

constexpr int kRowHeight = 22;
constexpr int kBarHeight = 14;
constexpr int kLabelWidth = 64;
constexpr int kLegendHeight = 22;
constexpr int kAxisHeight = 18;
constexpr int kMargin = 6;

QColor stageColour(int column)
{
    switch (column) {
    case TurnLatencyModel::EndpointingColumn: return QColor(0x90, 0xa4, 0xae);
    case TurnLatencyModel::SttFinalColumn: return QColor(0x42, 0xa5, 0xf5);
    case TurnLatencyModel::FirstTokenColumn: return QColor(0xab, 0x47, 0xbc);
    case TurnLatencyModel::FirstSentenceColumn: return QColor(0xff, 0xa7, 0x26);
    case TurnLatencyModel::TtsFirstAudioColumn: return QColor(0x26, 0xa6, 0x9a);
    case TurnLatencyModel::FirstFrameOutColumn: return QColor(0x66, 0xbb, 0x6a);
    default: return QColor(Qt::gray);
    }
}

// A round step for the axis: about one tick per 80 px.
double tickStep(double scaleMs, double widthPx)
{
    const double wanted = scaleMs / std::max(1.0, widthPx / 80.0);
    for (double step : {10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0})
        if (step >= wanted)
            return step;
    return 10000.0;
}

} // namespace

TurnWaterfallView::TurnWaterfallView(CallMonitor *monitor, QWidget *parent)
    : QWidget(parent)
    , m_monitor(monitor)
{
    setObjectName(QStringLiteral("turnWaterfall"));
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent, false);
    connect(monitor, &CallMonitor::turnAdded, this, [this](const QString &callId, int) {
        if (callId == m_callId) {
            updateGeometry();
            update();
        }
    });
    connect(monitor, &CallMonitor::aboutToRemoveCall, this, [this](int row) {
        if (m_monitor->at(row).callId == m_callId)
            setCallId({});
    });
}

void TurnWaterfallView::setCallId(const QString &callId)
{
    m_callId = callId;
    updateGeometry();
    update();
}

int TurnWaterfallView::turnCount() const
{
    const CallRecord *call = m_monitor->find(m_callId);
    return call ? int(call->turns.size()) : 0;
}

QString TurnWaterfallView::emptyText() const
{
    return m_callId.isEmpty() ? tr("Select a call: each of its turns appears here as a bar, one segment per stage, "
                                   "from the caller's last word to the reply's first frame.")
                              : tr("No turn yet: each answered turn appears here as a bar, one segment per stage.");
}

QSize TurnWaterfallView::sizeHint() const
{
    return {600, kLegendHeight + kAxisHeight + 2 * kMargin + std::max(3, turnCount()) * kRowHeight};
}

QSize TurnWaterfallView::minimumSizeHint() const
{
    return {300, kLegendHeight + kAxisHeight + 2 * kMargin + kRowHeight};
}

QRectF TurnWaterfallView::plotArea() const
{
    return QRectF(kMargin + kLabelWidth, kMargin + kLegendHeight, width() - 2 * kMargin - kLabelWidth - 40,
                  height() - 2 * kMargin - kLegendHeight - kAxisHeight);
}

double TurnWaterfallView::scaleMs() const
{
    const CallRecord *call = m_monitor->find(m_callId);
    double longest = 0;
    if (call) {
        for (const TurnTrace &trace : call->turns) {
            for (int c = TurnLatencyModel::EndpointingColumn; c <= TurnLatencyModel::FirstFrameOutColumn; ++c)
                longest = std::max(longest, trace.msBetween(TurnStage::EndOfSpeech, TurnLatencyModel::stageOf(c)));
        }
    }
    return std::max(100.0, longest);
}

QList<TurnWaterfallView::Segment> TurnWaterfallView::layoutSegments() const
{
    QList<Segment> segments;
    const CallRecord *call = m_monitor->find(m_callId);
    if (!call)
        return segments;
    const QRectF area = plotArea();
    const double pxPerMs = area.width() / scaleMs();
    for (int row = 0; row < call->turns.size(); ++row) {
        const TurnTrace &trace = call->turns.at(row);
        const double top = area.top() + row * kRowHeight + (kRowHeight - kBarHeight) / 2.0;
        for (int c = TurnLatencyModel::EndpointingColumn; c <= TurnLatencyModel::FirstFrameOutColumn; ++c) {
            const double ms = TurnLatencyModel::durationMs(trace, c);
            if (ms < 0)
                continue;
            const double end = trace.msBetween(TurnStage::EndOfSpeech, TurnLatencyModel::stageOf(c));
            const double start = end - ms;
            segments.append(Segment{row, c, QRectF(area.left() + start * pxPerMs, top, std::max(1.0, ms * pxPerMs), kBarHeight)});
        }
    }
    return segments;
}

QPoint TurnWaterfallView::segmentCenter(int turnRow, int stageColumn) const
{
    for (const Segment &segment : layoutSegments())
        if (segment.turnRow == turnRow && segment.column == stageColumn)
            return segment.rect.center().toPoint();
    return {};
}

QString TurnWaterfallView::toolTipAt(const QPoint &pos) const
{
    const CallRecord *call = m_monitor->find(m_callId);
    if (!call)
        return {};
    for (const Segment &segment : layoutSegments()) {
        if (!segment.rect.adjusted(0, 0, 1, 0).contains(pos))
            continue;
        const TurnTrace &trace = call->turns.at(segment.turnRow);
        const double ms = TurnLatencyModel::durationMs(trace, segment.column);
        const double end = trace.msBetween(TurnStage::EndOfSpeech, TurnLatencyModel::stageOf(segment.column));
        const double total = TurnLatencyModel::durationMs(trace, TurnLatencyModel::TotalColumn);
        QString tip = tr("Turn %1: \u201c%2\u201d").arg(segment.turnRow + 1).arg(trace.utterance);
        tip += QLatin1Char('\n')
               + tr("%1: %2 ms, %3 to %4 ms after the caller's last word")
                     .arg(TurnLatencyModel::columnTitle(segment.column))
                     .arg(ms, 0, 'f', 1)
                     .arg(end - ms, 0, 'f', 1)
                     .arg(end, 0, 'f', 1);
        if (total >= 0)
            tip += QLatin1Char('\n') + tr("Turn total: %1 ms").arg(total, 0, 'f', 1);
        return tip;
    }
    return {};
}

bool TurnWaterfallView::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QString tip = toolTipAt(help->pos());
        if (tip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), tip, this);
        return true;
    }
    return QWidget::event(event);
}

void TurnWaterfallView::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.fillRect(rect(), palette().base());
    const CallRecord *call = m_monitor->find(m_callId);
    if (!call || call->turns.isEmpty()) {
        painter.setPen(palette().color(QPalette::Disabled, QPalette::Text));
        painter.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap, emptyText());
        return;
    }

    // Legend: one swatch per stage, in the stage table's words.
    painter.setPen(palette().color(QPalette::Text));
    const QFontMetrics metrics = painter.fontMetrics();
    int x = kMargin;
    for (int c = TurnLatencyModel::EndpointingColumn; c <= TurnLatencyModel::FirstFrameOutColumn; ++c) {
        const QString name = TurnLatencyModel::columnTitle(c);
        painter.fillRect(QRect(x, kMargin + 4, 10, 10), stageColour(c));
        painter.drawText(QPoint(x + 14, kMargin + 4 + metrics.ascent() - 1), name);
        x += 14 + metrics.horizontalAdvance(name) + 12;
    }

    const QRectF area = plotArea();
    const double scale = scaleMs();
    const double pxPerMs = area.width() / scale;
    // Axis: ms after the caller's last word.
    const double step = tickStep(scale, area.width());
    painter.setPen(palette().color(QPalette::Mid));
    const double axisY = area.top() + call->turns.size() * kRowHeight;
    for (double ms = 0; ms <= scale + 0.5; ms += step) {
        const double px = area.left() + ms * pxPerMs;
        painter.drawLine(QPointF(px, area.top()), QPointF(px, axisY));
        painter.drawText(QPointF(px + 2, axisY + metrics.ascent() + 2), QStringLiteral("%1 ms").arg(ms, 0, 'f', 0));
    }

    painter.setPen(palette().color(QPalette::Text));
    for (int row = 0; row < call->turns.size(); ++row) {
        const QRectF label(kMargin, area.top() + row * kRowHeight, kLabelWidth - 4, kRowHeight);
        painter.drawText(label, Qt::AlignVCenter | Qt::AlignLeft, tr("Turn %1").arg(row + 1));
    }
    for (const Segment &segment : layoutSegments())
        painter.fillRect(segment.rect, stageColour(segment.column));
    // The total at the end of each bar.
    for (int row = 0; row < call->turns.size(); ++row) {
        const double total = TurnLatencyModel::durationMs(call->turns.at(row), TurnLatencyModel::TotalColumn);
        if (total < 0)
            continue;
        const QPointF at(area.left() + total * pxPerMs + 4, area.top() + row * kRowHeight + kRowHeight / 2.0 + metrics.ascent() / 2.0 - 1);
        painter.drawText(at, QStringLiteral("%1").arg(total, 0, 'f', 0));
    }
}

} // namespace apex
