#include "ttscache/ttscachememory.h"

#include <QMutexLocker>

namespace apex {

TtsCacheMemory::TtsCacheMemory(qint64 budgetBytes)
    : m_budgetBytes(budgetBytes)
{
}

std::optional<QByteArray> TtsCacheMemory::find(const QByteArray &digest)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_index.constFind(digest);
    if (it == m_index.cend())
        return std::nullopt;
    m_lru.splice(m_lru.begin(), m_lru, it.value());
    return it.value()->audio;
}

bool TtsCacheMemory::contains(const QByteArray &digest) const
{
    QMutexLocker lock(&m_mutex);
    return m_index.contains(digest);
}

bool TtsCacheMemory::insert(const QByteArray &digest, const QByteArray &audio)
{
    Entry entry{digest, audio};
    QMutexLocker lock(&m_mutex);
    if (cost(entry) > m_budgetBytes)
        return false;
    if (const auto it = m_index.constFind(digest); it != m_index.cend()) {
        m_usedBytes -= cost(*it.value());
        m_lru.erase(it.value());
        m_index.erase(it);
    }
    m_usedBytes += cost(entry);
    m_lru.push_front(std::move(entry));
    m_index.insert(digest, m_lru.begin());
    evictToBudgetLocked();
    return true;
}

void TtsCacheMemory::clear()
{
    QMutexLocker lock(&m_mutex);
    m_lru.clear();
    m_index.clear();
    m_usedBytes = 0;
}

void TtsCacheMemory::setBudgetBytes(qint64 budgetBytes)
{
    QMutexLocker lock(&m_mutex);
    m_budgetBytes = budgetBytes;
    evictToBudgetLocked();
}

void TtsCacheMemory::evictToBudgetLocked()
{
    while (m_usedBytes > m_budgetBytes && !m_lru.empty()) {
        const Entry &victim = m_lru.back();
        m_usedBytes -= cost(victim);
        m_index.remove(victim.digest);
        m_lru.pop_back();
        ++m_evictions;
    }
}

qint64 TtsCacheMemory::budgetBytes() const
{
    QMutexLocker lock(&m_mutex);
    return m_budgetBytes;
}

qint64 TtsCacheMemory::usedBytes() const
{
    QMutexLocker lock(&m_mutex);
    return m_usedBytes;
}

qsizetype TtsCacheMemory::entryCount() const
{
    QMutexLocker lock(&m_mutex);
    return m_index.size();
}

quint64 TtsCacheMemory::evictions() const
{
    QMutexLocker lock(&m_mutex);
    return m_evictions;
}

} // namespace apex
