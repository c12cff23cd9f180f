#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <atomic>
#include <cstdint>

class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;

namespace apex {

// A provider's outbound HTTP across all threads, for /metrics: how many
// requests are in flight, and how long they waited before they left (our own
// queue and the connection set-up, never the provider's time).
struct HttpClientCounters
{
    QString provider;
    std::atomic<std::uint64_t> requests{0};
    std::atomic<int> inFlight{0};
    std::atomic<int> peakInFlight{0};
    std::atomic<int> managers{0};
    std::atomic<std::uint64_t> waitedOverMs{0};  // requests that waited more than 5 ms to leave
    std::atomic<std::uint64_t> waitMicrosTotal{0};
    std::atomic<std::uint64_t> waitMicrosMax{0};
};

// Outbound HTTP for one provider on one thread, with no shared ceiling. A
// QNetworkAccessManager opens at most six HTTP/1.1 connections per host and
// queues everything else behind them, so one manager for every call makes
// calls wait for each other's sentences. The pool sends each request through
// the manager with the fewest in flight and opens another manager (six more
// connections, kept alive and reused) when all are busy, up to maxConnections.
// HTTP/2 stays allowed: where the server negotiates it, one connection
// multiplexes and the pool rarely grows.
class HttpClientPool : public QObject
{
    Q_OBJECT
public:
    static constexpr int kConnectionsPerManager = 6; // Qt's HTTP/1.1 limit per host

    // The calling thread's pool for `provider`; created on first use and
    // deleted with the thread.
    static HttpClientPool *forThread(const QString &provider);
    // Every provider's counters, for /metrics and /stats.
    static QList<const HttpClientCounters *> allCounters();
    // Connections a provider may open per thread (default 256): the budget the
    // pool grows to before requests queue.
    static void setMaxConnections(const QString &provider, int connections);

    QNetworkReply *post(const QNetworkRequest &request, const QByteArray &body);
    // TCP (and TLS) up before the first turn needs it: one connection per
    // manager that exists, at least `connections` worth of managers.
    void preconnect(const QUrl &url, int connections = 1);

    const HttpClientCounters &counters() const { return *m_counters; }
    int managerCount() const { return int(m_managers.size()); }

private:
    struct Manager
    {
        QPointer<QNetworkAccessManager> network;
        int inFlight = 0;
    };

    HttpClientPool(const QString &provider, HttpClientCounters *counters);
    Manager &pick();
    Manager &addManager();

    QString m_provider;
    HttpClientCounters *m_counters;
    QList<Manager> m_managers;
};

} // namespace apex
