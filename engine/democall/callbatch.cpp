#include "democall/callbatch.h"

#include <algorithm>
#include <cmath>

namespace apex {

namespace {

double nearestRank(const std::vector<double> &sorted, double percentile)
{
    if (sorted.empty())
        return -1;
    const auto rank = std::size_t(std::ceil(percentile / 100.0 * double(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace

LatencySummary LatencySummary::of(const QList<CallReport> &reports)
{
    std::vector<double> latencies;
    for (const CallReport &report : reports) {
        for (const TurnReport &turn : report.turns) {
            if (turn.latencyMs >= 0)
                latencies.push_back(turn.latencyMs);
        }
    }
    std::sort(latencies.begin(), latencies.end());
    LatencySummary summary;
    summary.turns = int(latencies.size());
    summary.p50Ms = nearestRank(latencies, 50);
    summary.p95Ms = nearestRank(latencies, 95);
    summary.p99Ms = nearestRank(latencies, 99);
    summary.maxMs = latencies.empty() ? -1 : latencies.back();
    return summary;
}

CallBatch::CallBatch(SimulatedCallerOptions options, int calls, int staggerMs, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_calls(std::max(1, calls))
    , m_staggerMs(std::max(0, staggerMs))
    , m_stagger(this)
{
    m_reports.resize(m_calls);
    m_stagger.setInterval(m_staggerMs);
    connect(&m_stagger, &QTimer::timeout, this, &CallBatch::startNext);
}

CallBatch::~CallBatch() = default;

void CallBatch::start()
{
    startNext();
    if (m_started < m_calls)
        m_stagger.start();
}

void CallBatch::startNext()
{
    if (m_started >= m_calls) {
        m_stagger.stop();
        return;
    }
    const int index = m_started++;
    auto *caller = new SimulatedCaller(m_options, this);
    connect(caller, &SimulatedCaller::finished, this, [this, index, caller](const CallReport &report) {
        m_reports[index] = report;
        caller->deleteLater();
        Q_EMIT callFinished(index, report);
        if (++m_done == m_calls)
            Q_EMIT finished();
    });
    caller->start();
    if (m_started >= m_calls)
        m_stagger.stop();
}

int CallBatch::failedCalls() const
{
    return int(std::count_if(m_reports.begin(), m_reports.end(), [](const CallReport &r) { return !r.ok(); }));
}

} // namespace apex
