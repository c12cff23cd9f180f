#pragma once

#include "history/historyrecords.h"
#include "history/historyurl.h"

#include <QHash>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QString>

#include <atomic>
#include <cstdint>
#include <deque>

class QThread;

namespace apex {

class HistoryWriterWorker;

// Records calls and chats without ever blocking the engine thread: record()
// only appends to a bounded queue; a worker on its own thread (with its own
// QtSql connection) commits what is queued in one transaction as soon as it
// wakes, so rows batch up by themselves under load and a turn is on disk
// within a commit's time of its end. It applies retention at start and daily.
//
// Bounded: when the database is down or slow and the queue is full, new rows
// are dropped and counted (dropped()), with one log line per burst; the worker
// keeps retrying the open and the batch it holds every retryIntervalMs.
class HistoryWriter : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        HistoryUrl url;
        int queueCapacity = 20000;
        int batchMaxRows = 500;
        int retryIntervalMs = 1000;
        qint64 retentionIntervalMs = 24LL * 3600 * 1000;
        int exitWaitMs = 5000; // at exit, how long queued rows may wait for the database
        QHash<QString, int> retentionDays; // per tenant
    };

    explicit HistoryWriter(Settings settings, QObject *parent = nullptr);
    // Commits what is still queued (waiting for the database at most
    // exitWaitMs), then stops the thread.
    ~HistoryWriter() override;

    void start();
    // Any thread. False: the queue was full and the row is dropped.
    bool record(HistoryRow row);
    // A reload changed the tenants' retention; applied at the next daily pass.
    void setRetentionDays(const QHash<QString, int> &days);

    std::uint64_t written() const { return m_written.load(); }
    std::uint64_t dropped() const { return m_dropped.load(); }
    std::uint64_t failedCommits() const { return m_failedCommits.load(); }
    int queued() const;
    bool isHealthy() const { return m_healthy.load(); }
    QString display() const { return m_settings.url.display(); }

Q_SIGNALS:
    // From the worker thread (connect queued): a batch is durable.
    void committed(int rows);
    // A retention pass deleted this many conversations of a tenant.
    void retentionApplied(const QString &tenantId, int deleted);

private:
    friend class HistoryWriterWorker;
    QList<HistoryRow> takeBatch();
    void putBack(QList<HistoryRow> batch);

    Settings m_settings;
    mutable QMutex m_mutex; // guards m_queue, m_wakePending and m_retentionDays; held only to move rows
    std::deque<HistoryRow> m_queue;
    bool m_wakePending = false;
    QHash<QString, int> m_retentionDays;
    QThread *m_thread = nullptr;
    HistoryWriterWorker *m_worker = nullptr; // lives on m_thread
    std::atomic<std::uint64_t> m_written{0};
    std::atomic<std::uint64_t> m_dropped{0};
    std::atomic<std::uint64_t> m_failedCommits{0};
    std::atomic<bool> m_healthy{false};
    bool m_droppingLogged = false;
};

} // namespace apex
