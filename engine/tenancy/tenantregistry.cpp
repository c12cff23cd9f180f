#include "tenancy/tenantregistry.h"

#include <QReadLocker>
#include <QWriteLocker>

namespace apex {

namespace {

// Numbers compare by their digits: "+1 (415) 555-0100" and "+14155550100" are one number.
QString digitsOf(const QString &number)
{
    QString digits;
    for (QChar c : number)
        if (c.isDigit())
            digits += c;
    return digits;
}

} // namespace

TenantRegistry::TenantRegistry(const QList<Tenant> &tenants, const QString &defaultTenantId)
{
    replace(tenants, defaultTenantId);
}

void TenantRegistry::replace(const QList<Tenant> &tenants, const QString &defaultTenantId)
{
    QWriteLocker lock(&m_lock);
    m_byId.clear();
    m_order.clear();
    for (const auto &t : tenants) {
        m_byId.insert(t.id, std::make_shared<const Tenant>(t));
        m_order << t.id;
    }
    m_defaultId = defaultTenantId.isEmpty() && !m_order.isEmpty() ? m_order.first() : defaultTenantId;
}

void TenantRegistry::upsert(const Tenant &tenant)
{
    QWriteLocker lock(&m_lock);
    if (!m_byId.contains(tenant.id))
        m_order << tenant.id;
    m_byId.insert(tenant.id, std::make_shared<const Tenant>(tenant));
    if (m_defaultId.isEmpty())
        m_defaultId = tenant.id;
}

TenantPtr TenantRegistry::find(const QString &id) const
{
    QReadLocker lock(&m_lock);
    return m_byId.value(id);
}

TenantPtr TenantRegistry::findByNumber(const QString &number) const
{
    const QString wanted = digitsOf(number);
    if (wanted.isEmpty())
        return nullptr;
    QReadLocker lock(&m_lock);
    for (const auto &id : m_order) {
        const auto &tenant = m_byId.value(id);
        for (const auto &n : tenant->numbers)
            if (digitsOf(n) == wanted)
                return tenant;
    }
    return nullptr;
}

TenantPtr TenantRegistry::defaultTenant() const
{
    QReadLocker lock(&m_lock);
    return m_byId.value(m_defaultId);
}

QList<TenantPtr> TenantRegistry::all() const
{
    QReadLocker lock(&m_lock);
    QList<TenantPtr> result;
    for (const auto &id : m_order)
        result << m_byId.value(id);
    return result;
}

TenantPtr TenantRegistry::resolve(const QString &explicitId, const QString &calledNumber) const
{
    if (!explicitId.isEmpty())
        return find(explicitId);
    if (auto byNumber = findByNumber(calledNumber))
        return byNumber;
    return defaultTenant();
}

} // namespace apex
