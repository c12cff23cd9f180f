#pragma once

#include "tenancy/tenant.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

namespace apex {

class CachingSynthesizer;
class SynthesisJob;

// Fills the TTS cache with what a tenant's calls will certainly say: the
// greeting, every FAQ answer, the fallback line and the fixed phrases of its
// system prompt, cut into sentences exactly as the call session cuts them, so
// the keys match what the speaker will ask for.
//
// Gentle by design: at most maxConcurrent syntheses at once (default 1), and a
// pause after each real synthesis, so warming never starves live calls of the
// TTS worker. Phrases already cached cost one lookup (and a Redis hit is copied
// into memory, which is what a freshly started engine node wants).
//
// Runs on any thread with an event loop; nothing blocks. Headless use:
//   Prewarmer warm(&caching);
//   QObject::connect(&warm, &Prewarmer::finished, &app, &QCoreApplication::quit);
//   warm.start(tenant);
//   return app.exec();
// finished() is only emitted once the Redis write-backs were acknowledged (or
// Redis is down), so quitting on it loses nothing.
class Prewarmer : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        int maxConcurrent = 1;
        int pauseAfterSynthesisMs = 50;
        int flushTimeoutMs = 2000; // longest wait for Redis to acknowledge the write-backs
    };

    struct Stats
    {
        QString tenantId;
        int total = 0;
        int alreadyCached = 0; // memory or Redis hit
        int synthesized = 0;
        int failed = 0;
        qint64 bytesSynthesized = 0;
        qint64 elapsedMs = 0;
        bool cancelled = false;

        int done() const { return alreadyCached + synthesized + failed; }
        QJsonObject toJson() const;
    };

    explicit Prewarmer(CachingSynthesizer *synthesizer, QObject *parent = nullptr);
    Prewarmer(CachingSynthesizer *synthesizer, Settings settings, QObject *parent = nullptr);
    ~Prewarmer() override;

    // Sentences to warm, in speaking order, without duplicates (by cache key
    // rules: NFC, folded whitespace).
    static QStringList phrasesFor(const Tenant &tenant);
    // Double-quoted spans ("…" or “…”) within one line of the system prompt:
    // the prompt's convention for lines the agent must say word for word.
    static QStringList fixedPhrases(const QString &systemPrompt);

    // Starts warming; a run already under way is cancelled first. progress()
    // and finished() follow from the event loop, never from inside start().
    void start(const Tenant &tenant);
    // Stops starting new syntheses and cancels the running ones; finished()
    // follows with stats().cancelled set.
    void cancel();
    bool isRunning() const { return m_running; }
    Stats stats() const { return m_stats; }

Q_SIGNALS:
    void progress(int done, int total);
    void finished(const apex::Prewarmer::Stats &stats);

private:
    void pump();
    void onJobEnded(SynthesisJob *job, bool ok);
    void finish();

    CachingSynthesizer *const m_synthesizer;
    const Settings m_settings;
    Tenant m_tenant;
    QStringList m_phrases;
    int m_next = 0;
    QList<QPointer<SynthesisJob>> m_active;
    QTimer m_pause;
    QElapsedTimer m_clock;
    Stats m_stats;
    bool m_running = false;
    bool m_finishing = false;
};

} // namespace apex
