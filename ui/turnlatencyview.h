#pragma once

#include <QString>
#include <QTableView>

namespace apex {

class CallMonitor;
class TurnLatencyModel;

// The selected call's turns, one row each, with every stage's latency after the
// caller stopped talking: where a slow reply spent its time.
class TurnLatencyView : public QTableView
{
    Q_OBJECT
public:
    explicit TurnLatencyView(CallMonitor *monitor, QWidget *parent = nullptr);

    void setCallId(const QString &callId);

private:
    TurnLatencyModel *m_model;
};

} // namespace apex
