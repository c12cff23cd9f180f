#pragma once

#include "democall/simulatedcaller.h"

#include <QList>
#include <QObject>
#include <QTimer>

namespace apex {

// Per-turn latency over many calls (nearest-rank percentiles).
struct LatencySummary
{
    int turns = 0; // turns with a measured latency
    double p50Ms = -1;
    double p95Ms = -1;
    double p99Ms = -1;
    double maxMs = -1;

    static LatencySummary of(const QList<CallReport> &reports);
};

// N concurrent SimulatedCallers with the same script, started staggerMs apart
// so their 20 ms ticks and greetings do not all land at once.
class CallBatch : public QObject
{
    Q_OBJECT
public:
    CallBatch(SimulatedCallerOptions options, int calls, int staggerMs, QObject *parent = nullptr);
    ~CallBatch() override;

    void start();
    // In call order; valid after finished().
    const QList<CallReport> &reports() const { return m_reports; }
    int failedCalls() const;

Q_SIGNALS:
    void callFinished(int index, const apex::CallReport &report);
    void finished();

private:
    void startNext();

    SimulatedCallerOptions m_options;
    int m_calls;
    int m_staggerMs;
    int m_started = 0;
    int m_done = 0;
    QTimer m_stagger;
    QList<CallReport> m_reports;
};

} // namespace apex
