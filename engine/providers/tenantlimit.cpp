#include "providers/tenantlimit.h"

#include <QMutex>
#include <QMutexLocker>

#include <algorithm>
#include <map>
#include <utility>

namespace apex {

struct TenantLimit::Entry
{
    int inUse = 0;
    int quota = 0;
    std::uint64_t refused = 0;
};

struct TenantLimit::State
{
    QMutex mutex;
    int defaultQuota = 0;
    // std::map: permits point at entries, which must not move as tenants are added.
    std::map<QString, Entry> tenants;

    Entry &entry(const QString &tenantId)
    {
        auto [it, inserted] = tenants.try_emplace(tenantId);
        if (inserted)
            it->second.quota = defaultQuota;
        return it->second;
    }
};

TenantLimit::Permit::Permit(std::shared_ptr<State> state, Entry *entry)
    : m_state(std::move(state))
    , m_entry(entry)
{
}

TenantLimit::Permit::Permit(Permit &&other) noexcept
    : m_state(std::exchange(other.m_state, nullptr))
    , m_entry(std::exchange(other.m_entry, nullptr))
{
}

TenantLimit::Permit &TenantLimit::Permit::operator=(Permit &&other) noexcept
{
    if (this != &other) {
        release();
        m_state = std::exchange(other.m_state, nullptr);
        m_entry = std::exchange(other.m_entry, nullptr);
    }
    return *this;
}

TenantLimit::Permit::~Permit()
{
    release();
}

void TenantLimit::Permit::release()
{
    if (!m_state)
        return;
    {
        QMutexLocker lock(&m_state->mutex);
        --m_entry->inUse;
    }
    m_entry = nullptr;
    m_state.reset();
}

TenantLimit::TenantLimit(int defaultQuota)
    : m_state(std::make_shared<State>())
{
    m_state->defaultQuota = std::max(defaultQuota, 0);
}

TenantLimit::~TenantLimit() = default;

void TenantLimit::setQuota(const QString &tenantId, int maxConcurrent)
{
    QMutexLocker lock(&m_state->mutex);
    m_state->entry(tenantId).quota = std::max(maxConcurrent, 0);
}

TenantLimit::Permit TenantLimit::tryAcquire(const QString &tenantId)
{
    QMutexLocker lock(&m_state->mutex);
    Entry &e = m_state->entry(tenantId);
    if (e.quota > 0 && e.inUse >= e.quota) {
        ++e.refused;
        return {};
    }
    ++e.inUse;
    return Permit(m_state, &e);
}

TenantUsage TenantLimit::usage(const QString &tenantId) const
{
    QMutexLocker lock(&m_state->mutex);
    auto it = m_state->tenants.find(tenantId);
    if (it == m_state->tenants.end())
        return TenantUsage{tenantId, 0, m_state->defaultQuota, 0};
    return TenantUsage{tenantId, it->second.inUse, it->second.quota, it->second.refused};
}

QList<TenantUsage> TenantLimit::snapshot() const
{
    QMutexLocker lock(&m_state->mutex);
    QList<TenantUsage> out;
    out.reserve(qsizetype(m_state->tenants.size()));
    for (const auto &[id, e] : m_state->tenants)
        out.append(TenantUsage{id, e.inUse, e.quota, e.refused});
    return out;
}

} // namespace apex
