#pragma once

#include "tts/speechsynthesizer.h"
#include "ttscache/ttscache.h"
#include "ttscache/ttscachekey.h"

#include <memory>

namespace apex {

class TtsCacheFlight;
struct TtsCacheFlights;

// The job CachingSynthesizer hands out. Keeps SynthesisJob's contract (signals
// only from the event loop, none after cancel() or deletion) and says where its
// audio came from, for the turn trace's cache hit/miss stamp.
class TtsCacheJob : public SynthesisJob
{
    Q_OBJECT
public:
    enum class Source {
        Pending,   // still looking
        Memory,    // memory hit
        Redis,     // Redis hit
        Synthesis, // miss: this job started the inner synthesis
        Shared,    // miss: joined a synthesis another job had started
    };
    Q_ENUM(Source)

    // Made by CachingSynthesizer::synthesize(); start() right after.
    TtsCacheJob(SpeechSynthesizer *inner, TtsCache *cache, std::shared_ptr<TtsCacheFlights> flights,
                const SynthesisRequest &request, const TtsCacheKey &key, TtsCache::Purpose purpose, QObject *parent);
    ~TtsCacheJob() override;

    void start();
    void cancel() override;
    ProviderFailure providerFailure() const override { return m_failure; }
    Source source() const { return m_source; }

Q_SIGNALS:
    // Once, before the first audio() (or failed()).
    void sourceResolved(apex::TtsCacheJob::Source source);

private:
    void onLookup(const TtsCache::LookupResult &result);
    void deliverWhole(Source source, const QByteArray &audio);
    void followFlight();
    void onReplay(const QList<QByteArray> &chunks, int state, const QString &reason);
    void onDone(bool ok, const QString &reason);
    void resolve(Source source);
    void detach();

    SpeechSynthesizer *const m_inner;
    TtsCache *const m_cache;
    const std::shared_ptr<TtsCacheFlights> m_flights;
    const SynthesisRequest m_request;
    const TtsCacheKey m_key;
    const TtsCache::Purpose m_purpose;
    std::shared_ptr<TtsCacheFlight> m_flight;
    ProviderFailure m_failure;
    Source m_source = Source::Pending;
    bool m_starting = false;
    bool m_cancelled = false;
    bool m_done = false;
};

} // namespace apex
