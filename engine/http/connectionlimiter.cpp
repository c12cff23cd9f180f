#include "http/connectionlimiter.h"

#include <QMutexLocker>

#include <algorithm>

namespace apex {

void ConnectionLimiter::setLimits(int maxTotal, int maxPerAddress)
{
    QMutexLocker lock(&m_mutex);
    m_maxTotal = std::max(1, maxTotal);
    m_maxPerAddress = std::max(1, maxPerAddress);
}

int ConnectionLimiter::maxTotal() const
{
    QMutexLocker lock(&m_mutex);
    return m_maxTotal;
}

QHostAddress ConnectionLimiter::normalized(const QHostAddress &peer)
{
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : peer;
}

ConnectionLimiter::Admission ConnectionLimiter::admit(const QHostAddress &peer)
{
    const QHostAddress key = normalized(peer);
    QMutexLocker lock(&m_mutex);
    if (m_open >= m_maxTotal) {
        ++shedTotalFull;
        return Admission::TotalFull;
    }
    int &fromPeer = m_byAddress[key];
    if (fromPeer >= m_maxPerAddress) {
        ++shedAddressFull;
        return Admission::AddressFull;
    }
    ++fromPeer;
    ++m_open;
    return Admission::Admitted;
}

void ConnectionLimiter::release(const QHostAddress &peer)
{
    const QHostAddress key = normalized(peer);
    QMutexLocker lock(&m_mutex);
    auto it = m_byAddress.find(key);
    if (it == m_byAddress.end())
        return;
    if (--it.value() <= 0)
        m_byAddress.erase(it);
    --m_open;
}

int ConnectionLimiter::open() const
{
    QMutexLocker lock(&m_mutex);
    return m_open;
}

int ConnectionLimiter::openFrom(const QHostAddress &peer) const
{
    QMutexLocker lock(&m_mutex);
    return m_byAddress.value(normalized(peer));
}

} // namespace apex
