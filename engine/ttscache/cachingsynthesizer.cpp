#include "ttscache/cachingsynthesizer.h"

#include "ttscache/ttscacheflight.h"
#include "ttscache/ttscachejob.h"

#include <QMutexLocker>

namespace apex {

CachingSynthesizer::CachingSynthesizer(SpeechSynthesizer *inner, TtsCache *cache, const QString &providerName)
    : m_inner(inner)
    , m_cache(cache)
    , m_providerName(providerName.isEmpty() ? inner->name() : providerName)
    , m_flights(std::make_shared<TtsCacheFlights>())
{
}

CachingSynthesizer::~CachingSynthesizer() = default;

TtsCacheKey CachingSynthesizer::keyFor(const SynthesisRequest &request) const
{
    return TtsCacheKey::make(request.tenantId, m_providerName, request.voice, request.language, request.text);
}

SynthesisJob *CachingSynthesizer::synthesize(const SynthesisRequest &request, QObject *parent)
{
    return synthesize(request, parent, TtsCache::Purpose::Call);
}

SynthesisJob *CachingSynthesizer::synthesize(const SynthesisRequest &request, QObject *parent,
                                             TtsCache::Purpose purpose)
{
    const TtsCacheKey key = keyFor(request);
    if (!key.isValid())
        return m_inner->synthesize(request, parent);
    auto *job = new TtsCacheJob(m_inner, m_cache, m_flights, request, key, purpose, parent);
    job->start();
    return job;
}

int CachingSynthesizer::inFlightCount() const
{
    QMutexLocker lock(&m_flights->mutex);
    return int(m_flights->running.size());
}

} // namespace apex
