#pragma once

#include "tts/speechsynthesizer.h"
#include "ttscache/ttscachekey.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <memory>

namespace apex {

class TtsCache;
class TtsCacheFlight;

// The syntheses under way, by key digest: what makes concurrent misses of one
// sentence share a single synthesis (see CachingSynthesizer). Shared by the
// synthesizer and its flights, so a flight finishing after the synthesizer is
// gone still finds it.
struct TtsCacheFlights
{
    QMutex mutex;
    QHash<QByteArray, std::shared_ptr<TtsCacheFlight>> running;

    void removeIfSame(const QByteArray &digest, const TtsCacheFlight *flight);
};

// One inner synthesis fanned out to every job waiting for its key. Lives on the
// thread that started it (the inner job is its child). Subscribers on any thread
// join() and receive, on their own thread and in order, a replay of the chunks
// so far, then the rest live, then done(). Chunks are written back to the cache
// only once the synthesis has finished: a partial or failed one never is.
//
// Held by std::shared_ptr (registry and subscribers); the last owner's release
// deletes it on its own thread (deleteLater), so a subscriber may always call
// leave() on a flight it joined.
class TtsCacheFlight : public QObject
{
    Q_OBJECT
public:
    enum class State { Running, Finished, Failed, Abandoned };

    struct Snapshot
    {
        QList<QByteArray> chunks;
        State state = State::Running;
        QString reason;
    };
    // Replay sink: runs on the subscriber's thread before any live signal.
    using ReplayFn = std::function<void(const Snapshot &snapshot)>;

    static std::shared_ptr<TtsCacheFlight> create(const TtsCacheKey &key, TtsCache *cache,
                                                  std::shared_ptr<TtsCacheFlights> registry);
    ~TtsCacheFlight() override;

    // On the owning thread, once.
    void start(SpeechSynthesizer *inner, const SynthesisRequest &request);

    // Any thread. Connects `subscriber` (queued) to chunk()/done() and posts the
    // replay to it, atomically with respect to new chunks. False when the flight
    // has been abandoned: start a new one.
    bool join(QObject *subscriber, ReplayFn replay, std::function<void(const QByteArray &)> onChunk,
              std::function<void(bool ok, const QString &reason)> onDone);
    // Any thread, once per successful join(). The last subscriber to leave a
    // running flight cancels the inner synthesis.
    void leave(QObject *subscriber);
    // Any thread; meaningful once done(false) was emitted.
    ProviderFailure failure() const;

Q_SIGNALS:
    void chunk(const QByteArray &mulaw8k);
    void done(bool ok, const QString &reason);
    void requestSent(qint64 monotonicNs); // on the owning thread: for the job that started the flight

private:
    TtsCacheFlight(const TtsCacheKey &key, TtsCache *cache, std::shared_ptr<TtsCacheFlights> registry);
    void onInnerAudio(const QByteArray &mulaw8k);
    void onInnerFinished();
    void onInnerFailed(const QString &reason);
    void abandon();

    const TtsCacheKey m_key;
    TtsCache *const m_cache;
    const std::shared_ptr<TtsCacheFlights> m_registry;
    QPointer<SynthesisJob> m_inner;

    mutable QMutex m_mutex; // guards the members below, which subscribers read from their threads
    QList<QByteArray> m_chunks;
    qint64 m_bytes = 0;
    State m_state = State::Running;
    QString m_reason;
    ProviderFailure m_failure;
    int m_subscribers = 0;
};

} // namespace apex
