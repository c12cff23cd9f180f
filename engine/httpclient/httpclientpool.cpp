#include "httpclient/httpclientpool.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QThread>

#include <memory>

namespace apex {

namespace {

struct Registry
{
    QMutex mutex;
    // Never removed: counters outlive every thread's pool, like the metrics they feed.
    QHash<QString, std::shared_ptr<HttpClientCounters>> counters;
    QHash<QString, int> maxConnections;

    HttpClientCounters *countersFor(const QString &provider)
    {
        QMutexLocker lock(&mutex);
        auto &slot = counters[provider];
        if (!slot) {
            slot = std::make_shared<HttpClientCounters>();
            slot->provider = provider;
        }
        return slot.get();
    }
    int maxConnectionsFor(const QString &provider)
    {
        QMutexLocker lock(&mutex);
        return maxConnections.value(provider, 256);
    }
};

Registry &registry()
{
    static Registry r;
    return r;
}

void raiseMax(std::atomic<int> &peak, int value)
{
    int seen = peak.load();
    while (value > seen && !peak.compare_exchange_weak(seen, value)) {
    }
}

void raiseMax(std::atomic<std::uint64_t> &peak, std::uint64_t value)
{
    std::uint64_t seen = peak.load();
    while (value > seen && !peak.compare_exchange_weak(seen, value)) {
    }
}

} // namespace

HttpClientPool *HttpClientPool::forThread(const QString &provider)
{
    thread_local QHash<QString, QPointer<HttpClientPool>> pools;
    QPointer<HttpClientPool> &pool = pools[provider];
    if (pool)
        return pool;
    pool = new HttpClientPool(provider, registry().countersFor(provider));
    QThread *thread = QThread::currentThread();
    QCoreApplication *app = QCoreApplication::instance();
    if (app && thread == app->thread())
        pool->setParent(app);
    else
        // Emitted on the finishing thread itself, whose deferred deletes still run.
        QObject::connect(thread, &QThread::finished, pool, &QObject::deleteLater, Qt::DirectConnection);
    return pool;
}

QList<const HttpClientCounters *> HttpClientPool::allCounters()
{
    Registry &r = registry();
    QMutexLocker lock(&r.mutex);
    QList<const HttpClientCounters *> out;
    for (const auto &c : std::as_const(r.counters))
        out.append(c.get());
    std::sort(out.begin(), out.end(), [](auto *a, auto *b) { return a->provider < b->provider; });
    return out;
}

void HttpClientPool::setMaxConnections(const QString &provider, int connections)
{
    Registry &r = registry();
    QMutexLocker lock(&r.mutex);
    r.maxConnections.insert(provider, std::max(kConnectionsPerManager, connections));
}

HttpClientPool::HttpClientPool(const QString &provider, HttpClientCounters *counters)
    : m_provider(provider)
    , m_counters(counters)
{
    setObjectName(provider + QStringLiteral("-http"));
}

HttpClientPool::Manager &HttpClientPool::addManager()
{
    auto *network = new QNetworkAccessManager(this);
    network->setObjectName(QStringLiteral("%1-http-%2").arg(m_provider).arg(m_managers.size()));
    // Our own deadlines decide; Qt's transfer timeout would race them.
    network->setTransferTimeout(0);
    m_managers.append(Manager{network, 0});
    ++m_counters->managers;
    return m_managers.last();
}

HttpClientPool::Manager &HttpClientPool::pick()
{
    Manager *best = nullptr;
    for (Manager &m : m_managers) {
        if (!best || m.inFlight < best->inFlight)
            best = &m;
    }
    const int maxManagers = std::max(1, registry().maxConnectionsFor(m_provider) / kConnectionsPerManager);
    if (!best || (best->inFlight >= kConnectionsPerManager && m_managers.size() < maxManagers))
        return addManager();
    return *best;
}

QNetworkReply *HttpClientPool::post(const QNetworkRequest &request, const QByteArray &body)
{
    const int index = int(&pick() - m_managers.data());
    Manager &manager = m_managers[index];
    ++manager.inFlight;
    ++m_counters->requests;
    raiseMax(m_counters->peakInFlight, ++m_counters->inFlight);

    QNetworkReply *reply = manager.network->post(request, body);
    auto sent = std::make_shared<QElapsedTimer>();
    sent->start();
    connect(reply, &QNetworkReply::requestSent, this, [counters = m_counters, sent] {
        if (!sent->isValid())
            return;
        const std::uint64_t micros = std::uint64_t(sent->nsecsElapsed() / 1000);
        sent->invalidate();
        counters->waitMicrosTotal += micros;
        raiseMax(counters->waitMicrosMax, micros);
        if (micros > 5000)
            ++counters->waitedOverMs;
    });
    // Counted down once, whether the reply finishes, is aborted or deleted.
    auto done = std::make_shared<bool>(false);
    auto release = [this, network = manager.network, counters = m_counters, done] {
        if (std::exchange(*done, true))
            return;
        --counters->inFlight;
        for (Manager &m : m_managers) {
            if (m.network == network) {
                --m.inFlight;
                break;
            }
        }
    };
    connect(reply, &QNetworkReply::finished, this, release);
    connect(reply, &QObject::destroyed, this, release);
    return reply;
}

void HttpClientPool::preconnect(const QUrl &url, int connections)
{
    const int wanted = std::max(1, (connections + kConnectionsPerManager - 1) / kConnectionsPerManager);
    while (m_managers.size() < wanted)
        addManager();
    for (const Manager &m : std::as_const(m_managers)) {
        if (url.scheme() == QLatin1String("https"))
            m.network->connectToHostEncrypted(url.host(), quint16(url.port(443)));
        else if (url.scheme() == QLatin1String("http"))
            m.network->connectToHost(url.host(), quint16(url.port(80)));
    }
}

} // namespace apex
