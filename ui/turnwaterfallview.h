#pragma once

#include <QString>
#include <QWidget>

namespace apex {

class CallMonitor;

// The selected call's turns as a waterfall: one horizontal bar per turn on a
// shared millisecond scale from the caller's last word, one coloured segment
// per stage (the same durations as the stage table), the figures on hover.
// Plain QPainter over the monitor's record: repaints only when its call gets a
// turn or the widget is resized.
class TurnWaterfallView : public QWidget
{
    Q_OBJECT
public:
    explicit TurnWaterfallView(CallMonitor *monitor, QWidget *parent = nullptr);

    void setCallId(const QString &callId);
    QString callId() const { return m_callId; }

    int turnCount() const;
    // The hover text at `pos` (widget coordinates), empty over no segment.
    QString toolTipAt(const QPoint &pos) const;
    // Where the middle of a turn's stage segment is drawn; null when not drawn.
    QPoint segmentCenter(int turnRow, int stageColumn) const;
    QString emptyText() const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Segment
    {
        int turnRow;
        int column; // a TurnLatencyModel stage column
        QRectF rect;
    };
    QList<Segment> layoutSegments() const;
    double scaleMs() const;
    QRectF plotArea() const;

    CallMonitor *m_monitor;
    QString m_callId;
};

} // namespace apex
