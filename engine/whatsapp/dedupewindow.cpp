#include "whatsapp/dedupewindow.h"

#include <QDeadlineTimer>

#include <algorithm>

namespace apex::waha {

DedupeWindow::DedupeWindow(int capacity, qint64 windowMs, Clock clock)
    : m_capacity(std::max(1, capacity))
    , m_windowMs(std::max<qint64>(1, windowMs))
    , m_clock(clock ? std::move(clock) : Clock([] { return QDeadlineTimer::current().deadline(); }))
{
}

bool DedupeWindow::firstSighting(const QString &id)
{
    const qint64 now = m_clock();
    forgetExpired(now);
    if (m_seenAt.contains(id))
        return false;
    while (qsizetype(m_order.size()) >= m_capacity) {
        m_seenAt.remove(m_order.front().first);
        m_order.pop_front();
    }
    m_seenAt.insert(id, now);
    m_order.emplace_back(id, now);
    return true;
}

void DedupeWindow::forgetExpired(qint64 nowMs)
{
    while (!m_order.empty() && nowMs - m_order.front().second >= m_windowMs) {
        m_seenAt.remove(m_order.front().first);
        m_order.pop_front();
    }
}

} // namespace apex::waha
