#include "ttscache/ttscachejob.h"

#include "ttscache/ttscacheflight.h"

#include <QMutexLocker>

namespace apex {

TtsCacheJob::TtsCacheJob(SpeechSynthesizer *inner, TtsCache *cache, std::shared_ptr<TtsCacheFlights> flights,
                         const SynthesisRequest &request, const TtsCacheKey &key, TtsCache::Purpose purpose,
                         QObject *parent)
    : SynthesisJob(parent)
    , m_inner(inner)
    , m_cache(cache)
    , m_flights(std::move(flights))
    , m_request(request)
    , m_key(key)
    , m_purpose(purpose)
{
}

TtsCacheJob::~TtsCacheJob()
{
    detach();
}

void TtsCacheJob::start()
{
    m_starting = true;
    m_cache->lookup(m_key, this, [this](const TtsCache::LookupResult &result) { onLookup(result); }, m_purpose);
    m_starting = false;
}

void TtsCacheJob::cancel()
{
    m_cancelled = true;
    detach();
}

void TtsCacheJob::detach()
{
    if (m_flight) {
        m_flight->leave(this);
        m_flight.reset();
    }
}

void TtsCacheJob::onLookup(const TtsCache::LookupResult &result)
{
    if (m_cancelled)
        return;
    switch (result.tier) {
    case TtsCache::Tier::Memory:
        deliverWhole(Source::Memory, result.audio);
        return;
    case TtsCache::Tier::Redis:
        deliverWhole(Source::Redis, result.audio);
        return;
    case TtsCache::Tier::Miss:
        if (m_starting) {
            // Still inside synthesize(): the caller has not connected yet, and
            // a flight's replay is queued anyway, so following it now is safe.
            followFlight();
        } else {
            // A synthesis that finished while Redis was answering is in memory
            // now; taking it beats synthesising the sentence a second time.
            if (std::optional<QByteArray> audio = m_cache->memory().find(m_key.digestHex)) {
                deliverWhole(Source::Memory, *audio);
                return;
            }
            followFlight();
        }
        return;
    }
}

void TtsCacheJob::deliverWhole(Source source, const QByteArray &audio)
{
    auto emitAll = [this, source, audio] {
        if (m_cancelled || m_done)
            return;
        m_done = true;
        resolve(source);
        Q_EMIT this->audio(audio);
        if (!m_cancelled)
            Q_EMIT finished();
    };
    if (m_starting)
        QMetaObject::invokeMethod(this, emitAll, Qt::QueuedConnection);
    else
        emitAll();
}

void TtsCacheJob::followFlight()
{
    // Find the synthesis under way for this key or start one; an abandoned
    // flight (its last listener just left) refuses joins and is replaced.
    for (;;) {
        std::shared_ptr<TtsCacheFlight> flight;
        bool created = false;
        {
            QMutexLocker lock(&m_flights->mutex);
            auto it = m_flights->running.find(m_key.digestHex);
            if (it != m_flights->running.end()) {
                flight = it.value();
            } else {
                flight = TtsCacheFlight::create(m_key, m_cache, m_flights);
                m_flights->running.insert(m_key.digestHex, flight);
                created = true;
            }
        }
        const bool joined = flight->join(
            this,
            [this](const TtsCacheFlight::Snapshot &s) { onReplay(s.chunks, int(s.state), s.reason); },
            [this](const QByteArray &chunk) {
                if (!m_cancelled && !m_done)
                    Q_EMIT audio(chunk);
            },
            [this](bool ok, const QString &reason) { onDone(ok, reason); });
        if (!joined) {
            m_flights->removeIfSame(m_key.digestHex, flight.get());
            continue;
        }
        m_flight = std::move(flight);
        m_source = created ? Source::Synthesis : Source::Shared;
        if (created) {
            connect(m_flight.get(), &TtsCacheFlight::requestSent, this, [this](qint64 ns) {
                if (!m_cancelled && !m_done)
                    Q_EMIT requestSent(ns);
            });
            m_flight->start(m_inner, m_request);
        }
        else
            m_cache->noteCoalesced(m_key.tenantId);
        return;
    }
}

void TtsCacheJob::onReplay(const QList<QByteArray> &chunks, int state, const QString &reason)
{
    if (m_cancelled || m_done)
        return;
    Q_EMIT sourceResolved(m_source);
    for (const QByteArray &chunk : chunks) {
        Q_EMIT audio(chunk);
        if (m_cancelled)
            return;
    }
    switch (TtsCacheFlight::State(state)) {
    case TtsCacheFlight::State::Finished:
        onDone(true, {});
        break;
    case TtsCacheFlight::State::Failed:
        onDone(false, reason);
        break;
    default:
        break; // the rest arrives live
    }
}

void TtsCacheJob::onDone(bool ok, const QString &reason)
{
    if (m_cancelled || m_done)
        return;
    m_done = true;
    if (!ok && m_flight)
        m_failure = m_flight->failure();
    detach();
    if (ok)
        Q_EMIT finished();
    else
        Q_EMIT failed(reason);
}

void TtsCacheJob::resolve(Source source)
{
    m_source = source;
    Q_EMIT sourceResolved(source);
}

} // namespace apex
