#include "ttscache/ttscacheflight.h"

#include "ttscache/ttscache.h"

#include <QMutexLocker>

namespace apex {

void TtsCacheFlights::removeIfSame(const QByteArray &digest, const TtsCacheFlight *flight)
{
    // Keep the removed owner alive until the lock is released: its release may
    // be the last one, and a deleter must not run under the registry's lock.
    std::shared_ptr<TtsCacheFlight> removed;
    QMutexLocker lock(&mutex);
    const auto it = running.find(digest);
    if (it != running.end() && it->get() == flight) {
        removed = std::move(it.value());
        running.erase(it);
    }
    lock.unlock();
}

std::shared_ptr<TtsCacheFlight> TtsCacheFlight::create(const TtsCacheKey &key, TtsCache *cache,
                                                       std::shared_ptr<TtsCacheFlights> registry)
{
    // deleteLater: the last owner may be a subscriber on another thread, and a
    // QObject must die on its own thread.
    return std::shared_ptr<TtsCacheFlight>(new TtsCacheFlight(key, cache, std::move(registry)),
                                           [](TtsCacheFlight *flight) { flight->deleteLater(); });
}

TtsCacheFlight::TtsCacheFlight(const TtsCacheKey &key, TtsCache *cache, std::shared_ptr<TtsCacheFlights> registry)
    : m_key(key)
    , m_cache(cache)
    , m_registry(std::move(registry))
{
}

TtsCacheFlight::~TtsCacheFlight()
{
    if (m_inner)
        m_inner->cancel(); // deleted with us as our child
}

void TtsCacheFlight::start(SpeechSynthesizer *inner, const SynthesisRequest &request)
{
    SynthesisJob *job = inner->synthesize(request, this);
    m_inner = job;
    connect(job, &SynthesisJob::audio, this, &TtsCacheFlight::onInnerAudio);
    connect(job, &SynthesisJob::finished, this, &TtsCacheFlight::onInnerFinished);
    connect(job, &SynthesisJob::failed, this, &TtsCacheFlight::onInnerFailed);
    connect(job, &SynthesisJob::requestSent, this, &TtsCacheFlight::requestSent);
}

bool TtsCacheFlight::join(QObject *subscriber, ReplayFn replay, std::function<void(const QByteArray &)> onChunk,
                          std::function<void(bool, const QString &)> onDone)
{
    QMutexLocker lock(&m_mutex);
    if (m_state == State::Abandoned)
        return false;
    ++m_subscribers;
    Snapshot snapshot{m_chunks, m_state, m_reason};
    // Both the connections and the replay are set up under the lock that
    // chunk emission takes, and the replay is posted first: the subscriber sees
    // every chunk exactly once and in order, whenever it joins.
    QMetaObject::invokeMethod(subscriber, [replay = std::move(replay), snapshot] { replay(snapshot); },
                              Qt::QueuedConnection);
    if (snapshot.state == State::Running) {
        connect(this, &TtsCacheFlight::chunk, subscriber, std::move(onChunk), Qt::QueuedConnection);
        connect(this, &TtsCacheFlight::done, subscriber, std::move(onDone), Qt::QueuedConnection);
    }
    return true;
}

void TtsCacheFlight::leave(QObject *subscriber)
{
    QMutexLocker lock(&m_mutex);
    disconnect(this, nullptr, subscriber, nullptr);
    if (--m_subscribers == 0 && m_state == State::Running)
        QMetaObject::invokeMethod(this, &TtsCacheFlight::abandon, Qt::QueuedConnection);
}

void TtsCacheFlight::abandon()
{
    {
        QMutexLocker lock(&m_mutex);
        if (m_state != State::Running || m_subscribers > 0)
            return; // finished meanwhile, or someone joined again
        m_state = State::Abandoned;
    }
    m_registry->removeIfSame(m_key.digestHex, this);
    if (m_inner) {
        m_inner->cancel();
        m_inner->deleteLater();
    }
}

void TtsCacheFlight::onInnerAudio(const QByteArray &mulaw8k)
{
    if (mulaw8k.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    if (m_state != State::Running)
        return;
    m_chunks.append(mulaw8k);
    m_bytes += mulaw8k.size();
    Q_EMIT chunk(mulaw8k);
}

void TtsCacheFlight::onInnerFinished()
{
    QByteArray whole;
    {
        QMutexLocker lock(&m_mutex);
        if (m_state != State::Running)
            return;
        whole.reserve(m_bytes);
        for (const QByteArray &c : std::as_const(m_chunks))
            whole.append(c);
    }
    // Stored before leaving the registry: a concurrent lookup then finds either
    // the flight or the cached audio, never neither (which would synthesise twice).
    m_cache->store(m_key, whole);
    m_registry->removeIfSame(m_key.digestHex, this);
    {
        QMutexLocker lock(&m_mutex);
        m_state = State::Finished;
        Q_EMIT done(true, {});
    }
    if (m_inner)
        m_inner->deleteLater();
}

ProviderFailure TtsCacheFlight::failure() const
{
    QMutexLocker lock(&m_mutex);
    return m_failure;
}

void TtsCacheFlight::onInnerFailed(const QString &reason)
{
    m_registry->removeIfSame(m_key.digestHex, this);
    {
        QMutexLocker lock(&m_mutex);
        if (m_state != State::Running)
            return;
        m_state = State::Failed;
        m_reason = reason;
        if (m_inner)
            m_failure = m_inner->providerFailure();
        Q_EMIT done(false, reason);
    }
    if (m_inner)
        m_inner->deleteLater();
}

} // namespace apex
