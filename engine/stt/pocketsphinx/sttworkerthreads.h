#pragma once

#include <QList>

#include <atomic>
#include <memory>

class QThread;

namespace apex {

// The few threads pocketsphinx decodes on ("stt-1" ... "stt-N"), shared by all
// calls. A call's worker is placed on one of them round-robin and stays there.
// Destroying this quits and joins the threads; objects still living on them are
// deleted as their thread finishes, so recognizers should go first.
class SttWorkerThreads
{
public:
    // threadCount <= 0: one per core.
    explicit SttWorkerThreads(int threadCount = 0);
    ~SttWorkerThreads();
    SttWorkerThreads(const SttWorkerThreads &) = delete;
    SttWorkerThreads &operator=(const SttWorkerThreads &) = delete;

    int size() const { return int(m_threads.size()); }
    QThread *next();

private:
    QList<QThread *> m_threads;
    std::atomic<unsigned> m_next{0};
};

} // namespace apex
