#pragma once

#include "tts/speechsynthesizer.h"
#include "ttscache/ttscache.h"

#include <QString>

#include <memory>

namespace apex {

struct TtsCacheFlights;

// A SpeechSynthesizer in front of another one, answering from TtsCache:
// - memory hit: the job emits the whole sentence and finished() on the next
//   event-loop turn (never inside synthesize(), so the caller can connect first);
// - Redis hit: after the GET answers (bounded by the cache's lookup timeout);
// - miss: the inner synthesis' chunks are forwarded as they arrive, and the
//   sentence is written back (memory + Redis) only once it has finished.
// Concurrent misses of one key share one inner synthesis: a late joiner gets
// the chunks so far replayed, then the rest live. Cancelling (or deleting) a job
// detaches only that job; the shared synthesis is cancelled when its last job goes.
//
// Wrap each concrete provider, not a fallback chain or router: the key names
// the provider, so a sentence a fallback voice spoke is never served as if the
// primary had spoken it. The cache and this object must outlive their jobs.
class CachingSynthesizer : public SpeechSynthesizer
{
public:
    // providerName: the key's provider field; empty takes inner->name().
    CachingSynthesizer(SpeechSynthesizer *inner, TtsCache *cache, const QString &providerName = {});
    ~CachingSynthesizer() override;
    CachingSynthesizer(const CachingSynthesizer &) = delete;
    CachingSynthesizer &operator=(const CachingSynthesizer &) = delete;

    QString name() const override { return m_inner->name(); }
    bool supports(const SynthesisRequest &request) const override { return m_inner->supports(request); }
    // Returns a TtsCacheJob (whose source() tells memory/Redis/synthesis), or
    // the inner job itself for text with nothing to cache (blank after normalising).
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override;
    // The same, counted as a pre-warm lookup rather than a call's.
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent, TtsCache::Purpose purpose);

    TtsCacheKey keyFor(const SynthesisRequest &request) const;
    TtsCache *cache() const { return m_cache; }
    SpeechSynthesizer *inner() const { return m_inner; }
    // Syntheses currently shared through single-flight (for tests and /stats).
    int inFlightCount() const;

private:
    SpeechSynthesizer *const m_inner;
    TtsCache *const m_cache;
    const QString m_providerName;
    const std::shared_ptr<TtsCacheFlights> m_flights;
};

} // namespace apex
