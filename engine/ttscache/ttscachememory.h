#pragma once

#include <QByteArray>
#include <QHash>
#include <QMutex>

#include <list>
#include <optional>

namespace apex {

// The in-process tier: least-recently-used entries bounded by bytes, not count,
// because one long sentence weighs as much as fifty short ones. Thread-safe: one
// instance is shared by every engine thread, so each call takes a mutex for a
// hash lookup and a list splice; audio is handed out as an implicitly shared
// QByteArray, never copied under the lock.
class TtsCacheMemory
{
public:
    static constexpr qint64 kDefaultBudgetBytes = 64LL * 1024 * 1024;
    // Fixed cost charged per entry for the key, hash node and list node, so a
    // budget holds roughly what it says even for tiny values.
    static constexpr qint64 kEntryOverheadBytes = 160;

    explicit TtsCacheMemory(qint64 budgetBytes = kDefaultBudgetBytes);

    // A hit makes the entry the most recently used.
    std::optional<QByteArray> find(const QByteArray &digest);
    bool contains(const QByteArray &digest) const;
    // Replaces an existing entry. A value larger than the whole budget is not
    // stored (returns false) instead of flushing everything else out.
    bool insert(const QByteArray &digest, const QByteArray &audio);
    void clear();
    // Shrinks at once by evicting the least recently used entries.
    void setBudgetBytes(qint64 budgetBytes);

    qint64 budgetBytes() const;
    qint64 usedBytes() const;
    qsizetype entryCount() const;
    quint64 evictions() const;

private:
    struct Entry
    {
        QByteArray digest;
        QByteArray audio;
    };
    using List = std::list<Entry>;

    static qint64 cost(const Entry &entry) { return entry.audio.size() + kEntryOverheadBytes; }
    void evictToBudgetLocked();

    mutable QMutex m_mutex;
    List m_lru; // front: most recently used
    QHash<QByteArray, List::iterator> m_index;
    qint64 m_budgetBytes;
    qint64 m_usedBytes = 0;
    quint64 m_evictions = 0;
};

} // namespace apex
