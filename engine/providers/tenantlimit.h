#pragma once

#include <QList>
#include <QString>

#include <cstdint>
#include <memory>

namespace apex {

struct TenantUsage
{
    QString tenantId;
    int inUse = 0;
    int quota = 0; // 0: unlimited
    std::uint64_t refused = 0;
};

// Concurrent LLM requests per tenant, so one busy tenant cannot spend the
// global AIMD limit that every tenant shares. A refused request goes to the
// fallback, like one refused by the global limit.
//
// Thread-safe; every method takes a short mutex and never blocks otherwise.
// A tenant's entry lives as long as the TenantLimit: tenant ids come from the
// config, so the set is small and bounded.
class TenantLimit
{
    struct State;
    struct Entry;

public:
    // Move-only; released by its destructor or release(). Belongs to one call
    // at a time, and may outlive the TenantLimit (it shares its counters).
    class [[nodiscard]] Permit
    {
    public:
        Permit() = default;
        Permit(Permit &&other) noexcept;
        Permit &operator=(Permit &&other) noexcept;
        Permit(const Permit &) = delete;
        Permit &operator=(const Permit &) = delete;
        ~Permit();

        explicit operator bool() const { return m_state != nullptr; }
        void release();

    private:
        friend class TenantLimit;
        Permit(std::shared_ptr<State> state, Entry *entry);

        std::shared_ptr<State> m_state;
        Entry *m_entry = nullptr; // owned by m_state, never removed
    };

    // Tenants without their own quota get defaultQuota (0: unlimited).
    explicit TenantLimit(int defaultQuota = 0);
    ~TenantLimit();

    TenantLimit(const TenantLimit &) = delete;
    TenantLimit &operator=(const TenantLimit &) = delete;

    // Lowering a quota below what is in use refuses new requests until enough
    // have finished; permits already out are not revoked.
    void setQuota(const QString &tenantId, int maxConcurrent);

    // An empty permit when the tenant is at its quota.
    Permit tryAcquire(const QString &tenantId);

    TenantUsage usage(const QString &tenantId) const;
    QList<TenantUsage> snapshot() const; // sorted by tenant id

private:
    std::shared_ptr<State> m_state;
};

} // namespace apex
