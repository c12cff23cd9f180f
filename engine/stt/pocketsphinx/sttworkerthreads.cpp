#include "stt/pocketsphinx/sttworkerthreads.h"

#include <QThread>

namespace apex {

SttWorkerThreads::SttWorkerThreads(int threadCount)
{
    const int count = threadCount > 0 ? threadCount : std::max(1, QThread::idealThreadCount());
    for (int i = 0; i < count; ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("stt-%1").arg(i + 1));
        thread->start();
        m_threads << thread;
    }
}

SttWorkerThreads::~SttWorkerThreads()
{
    for (QThread *thread : std::as_const(m_threads))
        thread->quit();
    for (QThread *thread : std::as_const(m_threads)) {
        thread->wait();
        delete thread;
    }
}

QThread *SttWorkerThreads::next()
{
    return m_threads.at(int(m_next.fetch_add(1, std::memory_order_relaxed) % unsigned(m_threads.size())));
}

} // namespace apex
