#pragma once

#include <QHash>
#include <QString>

#include <deque>
#include <functional>

namespace apex::waha {

// Remembers the message ids seen recently, so an event WAHA redelivers (its
// retries, or our 200 lost on the way back) is answered once. Bounded twice:
// ids older than the window are forgotten, and beyond `capacity` the oldest
// go first, so a flood of fresh ids costs a fixed amount of memory. In-process
// only: a redelivery that straddles a restart is answered again.
class DedupeWindow
{
public:
    using Clock = std::function<qint64()>; // monotonic milliseconds

    DedupeWindow(int capacity, qint64 windowMs, Clock clock = {});

    // True the first time an id is seen within the window; false for a repeat.
    bool firstSighting(const QString &id);
    qsizetype size() const { return m_seenAt.size(); }

private:
    void forgetExpired(qint64 nowMs);

    int m_capacity;
    qint64 m_windowMs;
    Clock m_clock;
    QHash<QString, qint64> m_seenAt;
    std::deque<std::pair<QString, qint64>> m_order; // oldest first
};

} // namespace apex::waha
