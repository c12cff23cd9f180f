#include "tts/embedded/ttsworkerthreads.h"

#include "tts/embedded/espeakworker.h"
#include "tts/embedded/flitevoiceworker.h"

#include <condition_variable>
#include <mutex>

namespace apex {

namespace {

std::mutex s_mutex;
std::condition_variable s_released;
std::weak_ptr<TtsWorkerThreads> s_current;
int s_liveInstances = 0;

} // namespace

std::shared_ptr<TtsWorkerThreads> TtsWorkerThreads::acquire()
{
    std::unique_lock lock(s_mutex);
    if (auto existing = s_current.lock())
        return existing;
    // The last holder of the previous instance may still be joining its threads:
    // a new espeak thread must not call espeak_Initialize before the old one's
    // espeak_Terminate has returned.
    s_released.wait(lock, [] { return s_liveInstances == 0; });
    ++s_liveInstances;
    std::shared_ptr<TtsWorkerThreads> created(new TtsWorkerThreads, [](TtsWorkerThreads *threads) {
        delete threads;
        std::lock_guard released(s_mutex);
        --s_liveInstances;
        s_released.notify_all();
    });
    s_current = created;
    return created;
}

TtsWorkerThreads::TtsWorkerThreads()
{
    m_flite = new FliteVoiceWorker(m_stopping);
    m_espeak = new EspeakWorker(m_stopping);
    m_flite->moveToThread(&m_fliteThread);
    m_espeak->moveToThread(&m_espeakThread);
    // finished is emitted on the worker thread itself after its event loop
    // ends: the one moment the engines can be torn down on their own thread.
    QObject::connect(&m_fliteThread, &QThread::finished, m_flite, [w = m_flite] { w->shutdown(); },
                     Qt::DirectConnection);
    QObject::connect(&m_espeakThread, &QThread::finished, m_espeak, [w = m_espeak] { w->shutdown(); },
                     Qt::DirectConnection);
    m_fliteThread.setObjectName(QStringLiteral("tts-flite"));
    m_espeakThread.setObjectName(QStringLiteral("tts-espeak"));
    m_fliteThread.start();
    m_espeakThread.start();
}

TtsWorkerThreads::~TtsWorkerThreads()
{
    // Running sentences see the flag in their streaming callbacks and stop;
    // queued ones are dropped unrun with the workers below.
    m_stopping->store(true);
    m_fliteThread.quit();
    m_espeakThread.quit();
    m_fliteThread.wait();
    m_espeakThread.wait();
    delete m_flite;
    delete m_espeak;
}

void TtsWorkerThreads::submit(Engine engine, std::shared_ptr<SynthesisTask> task, QObject *adopt)
{
    if (adopt) {
        adopt->moveToThread(engine == Engine::Flite ? &m_fliteThread : &m_espeakThread);
        task->keepAlive = std::shared_ptr<QObject>(adopt);
    }
    if (engine == Engine::Flite) {
        QMetaObject::invokeMethod(m_flite, [w = m_flite, task = std::move(task)] { w->run(task); },
                                  Qt::QueuedConnection);
    } else {
        QMetaObject::invokeMethod(m_espeak, [w = m_espeak, task = std::move(task)] { w->run(task); },
                                  Qt::QueuedConnection);
    }
}

} // namespace apex
