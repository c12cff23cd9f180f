#pragma once

#include "tenancy/tenant.h"

#include <QHash>
#include <QList>
#include <QReadWriteLock>
#include <QString>

#include <memory>

namespace apex {

using TenantPtr = std::shared_ptr<const Tenant>;

// The tenants the engine answers for. Read from every engine thread, replaced
// from the console: a call resolves its tenant once and keeps that snapshot.
class TenantRegistry
{
public:
    TenantRegistry() = default;
    TenantRegistry(const QList<Tenant> &tenants, const QString &defaultTenantId);

    void replace(const QList<Tenant> &tenants, const QString &defaultTenantId);
    void upsert(const Tenant &tenant);

    TenantPtr find(const QString &id) const;
    TenantPtr findByNumber(const QString &number) const;
    TenantPtr defaultTenant() const;
    QList<TenantPtr> all() const;

    // A call's tenant: the Stream parameter if it names one, else the called
    // number, else the default. An explicit but unknown id yields nullptr: a
    // misconfigured webhook must be visible, not silently answered as another business.
    TenantPtr resolve(const QString &explicitId, const QString &calledNumber) const;

private:
    mutable QReadWriteLock m_lock;
    QHash<QString, TenantPtr> m_byId;
    QList<QString> m_order;
    QString m_defaultId;
};

} // namespace apex
