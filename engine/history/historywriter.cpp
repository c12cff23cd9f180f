#include "history/historywriter.h"

#include "history/sqlhistorystore.h"
#include "observability/logging.h"

#include <QDeadlineTimer>
#include <QMutexLocker>
#include <QThread>
#include <QTimer>

namespace apex {

// The writer's half on its own thread: the QtSql connection, the retry and
// the daily retention pass. Touched only on that thread.
class HistoryWriterWorker : public QObject
{
public:
    explicit HistoryWriterWorker(HistoryWriter *owner)
        : m_owner(owner),
          m_store(owner->m_settings.url, QStringLiteral("apex-history-writer-%1").arg(quintptr(owner), 0, 16))
    {
    }

    void begin()
    {
        m_retry.setSingleShot(true);
        connect(&m_retry, &QTimer::timeout, this, [this] { flush(); });
        m_retention.setInterval(std::chrono::milliseconds(m_owner->m_settings.retentionIntervalMs));
        connect(&m_retention, &QTimer::timeout, this, [this] { applyRetention(); });
        m_retention.start();
        if (ensureOpen())
            applyRetention();
        flush();
    }

    void flush()
    {
        if (!ensureOpen()) {
            m_retry.start(m_owner->m_settings.retryIntervalMs);
            return;
        }
        for (;;) {
            QList<HistoryRow> batch = m_owner->takeBatch();
            if (batch.isEmpty())
                return;
            QString error;
            if (!m_store.write(batch, &error)) {
                ++m_owner->m_failedCommits;
                // The connection, or a row the database refuses? A fresh
                // connection tells: if it opens, the rows go one by one and a
                // refused row is dropped rather than blocking all behind it.
                m_store.close();
                if (!ensureOpen()) {
                    log::get("history")->warn("history: a batch of {} rows was not committed ({}); retrying", batch.size(), error);
                    m_owner->putBack(std::move(batch));
                    m_retry.start(m_owner->m_settings.retryIntervalMs);
                    return;
                }
                int written = 0;
                for (const auto &row : std::as_const(batch)) {
                    QString rowError;
                    if (m_store.write({row}, &rowError)) {
                        ++written;
                        continue;
                    }
                    ++m_owner->m_dropped;
                    log::get("history")->warn("call={} tenant={} history: a row was refused and dropped: {}", row.conversationId,
                                              row.tenantId, rowError);
                }
                m_owner->m_written += std::uint64_t(written);
                Q_EMIT m_owner->committed(written);
                continue;
            }
            m_owner->m_written += std::uint64_t(batch.size());
            m_owner->m_healthy = true;
            const HistoryRow &last = batch.constLast();
            log::get("history")->debug("call={} tenant={} history: committed {} rows, the last {} {}", last.conversationId,
                                       last.tenantId, batch.size(),
                                       last.kind == HistoryRow::Kind::Turn ? "turn" : "event", last.turn.index);
            Q_EMIT m_owner->committed(int(batch.size()));
        }
    }

    // The engine is stopping: commit what is queued while the database answers.
    void finish(int waitMs)
    {
        const QDeadlineTimer deadline(waitMs);
        for (;;) {
            flush();
            if (m_owner->queued() == 0 || deadline.hasExpired())
                break;
            QThread::msleep(100); // this thread only: the engine has stopped taking calls
        }
        m_retry.stop();
        m_retention.stop();
        if (const int left = m_owner->queued(); left > 0)
            log::get("history")->warn("history: {} rows not written at exit: the database did not answer", left);
        m_store.close();
    }

private:
    bool ensureOpen()
    {
        if (m_store.isOpen())
            return true;
        QString error;
        if (!m_store.open(&error)) {
            m_owner->m_healthy = false;
            if (!m_openFailureLogged)
                log::get("history")->warn("history: {}; rows wait in memory and the open is retried", error);
            m_openFailureLogged = true;
            return false;
        }
        if (m_openFailureLogged || !m_openedOnce)
            log::get("history")->info("history: writing to {}", m_owner->m_settings.url.display());
        m_openFailureLogged = false;
        m_openedOnce = true;
        m_owner->m_healthy = true;
        return true;
    }

    void applyRetention()
    {
        if (!ensureOpen())
            return;
        QHash<QString, int> days;
        {
            QMutexLocker lock(&m_owner->m_mutex);
            days = m_owner->m_retentionDays;
        }
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (auto it = days.cbegin(); it != days.cend(); ++it) {
            QString error;
            const int deleted = m_store.deleteBefore(it.key(), now.addDays(-it.value()), &error);
            if (deleted < 0) {
                log::get("history")->warn("call=- tenant={} history: retention failed: {}", it.key(), error);
                continue;
            }
            if (deleted > 0)
                log::get("history")->info("call=- tenant={} history: {} conversations older than {} days deleted", it.key(), deleted, it.value());
            Q_EMIT m_owner->retentionApplied(it.key(), deleted);
        }
    }

    HistoryWriter *m_owner;
    SqlHistoryStore m_store;
    QTimer m_retry{this};
    QTimer m_retention{this};
    bool m_openFailureLogged = false;
    bool m_openedOnce = false;
};

HistoryWriter::HistoryWriter(Settings settings, QObject *parent)
    : QObject(parent), m_settings(std::move(settings)), m_retentionDays(m_settings.retentionDays)
{
}

HistoryWriter::~HistoryWriter()
{
    if (!m_thread)
        return;
    HistoryWriterWorker *worker = m_worker;
    const int waitMs = m_settings.exitWaitMs;
    QMetaObject::invokeMethod(worker, [worker, waitMs] { worker->finish(waitMs); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
}

void HistoryWriter::start()
{
    if (m_thread)
        return;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("apex-history"));
    m_worker = new HistoryWriterWorker(this);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    HistoryWriterWorker *worker = m_worker;
    {
        QMutexLocker lock(&m_mutex);
        m_wakePending = true; // begin() flushes whatever was recorded before the start
    }
    connect(m_thread, &QThread::started, worker, [worker] { worker->begin(); });
    m_thread->start();
}

bool HistoryWriter::record(HistoryRow row)
{
    bool wake = false;
    {
        QMutexLocker lock(&m_mutex);
        if (int(m_queue.size()) >= m_settings.queueCapacity) {
            ++m_dropped;
            if (!m_droppingLogged)
                log::get("history")->warn("call={} tenant={} history: queue full ({} rows): dropping rows until the database catches up",
                                          row.conversationId, row.tenantId, m_queue.size());
            m_droppingLogged = true;
            return false;
        }
        m_droppingLogged = false;
        m_queue.push_back(std::move(row));
        wake = !m_wakePending;
        m_wakePending = true;
    }
    if (wake && m_worker) {
        HistoryWriterWorker *worker = m_worker;
        QMetaObject::invokeMethod(worker, [worker] { worker->flush(); }, Qt::QueuedConnection);
    }
    return true;
}

void HistoryWriter::setRetentionDays(const QHash<QString, int> &days)
{
    QMutexLocker lock(&m_mutex);
    m_retentionDays = days;
}

int HistoryWriter::queued() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_queue.size());
}

QList<HistoryRow> HistoryWriter::takeBatch()
{
    QMutexLocker lock(&m_mutex);
    QList<HistoryRow> batch;
    const int n = std::min<int>(int(m_queue.size()), m_settings.batchMaxRows);
    batch.reserve(n);
    for (int i = 0; i < n; ++i) {
        batch.append(std::move(m_queue.front()));
        m_queue.pop_front();
    }
    if (m_queue.empty())
        m_wakePending = false; // the next record() wakes the worker again
    return batch;
}

void HistoryWriter::putBack(QList<HistoryRow> batch)
{
    QMutexLocker lock(&m_mutex);
    // Oldest first again; the retry timer wakes the worker, so record() need not.
    for (auto it = batch.rbegin(); it != batch.rend(); ++it)
        m_queue.push_front(std::move(*it));
    while (int(m_queue.size()) > m_settings.queueCapacity) {
        m_queue.pop_back();
        ++m_dropped;
    }
    m_wakePending = true;
}

} // namespace apex
