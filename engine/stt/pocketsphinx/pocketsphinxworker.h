#pragma once

#include "observability/logging.h"
#include "stt/pocketsphinx/pocketsphinxmodelpool.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QVector>

#include <atomic>
#include <cstdint>
#include <memory>

namespace apex {

// The half of a PocketsphinxRecognizer that lives on an "stt-N" thread: it owns
// the borrowed decoder for the whole call and runs every pocketsphinx call.
// The recognizer talks to it only through queued invocations and hears back
// through queued signals. Deleting it (deleteLater from the recognizer) returns
// the decoder to the tenant's pool.
class PocketsphinxWorker : public QObject
{
    Q_OBJECT
public:
    struct Shared
    {
        std::atomic<bool> cancelled{false};   // set by stop(): queued audio is skipped
        std::atomic<int> backlogSamples{0};   // 16 kHz samples queued, not yet decoded
    };

    PocketsphinxWorker(std::shared_ptr<PocketsphinxModelPool> pool, std::shared_ptr<Shared> shared,
                       int partialIntervalMs, log::CallLogger logger);
    ~PocketsphinxWorker() override;

    // Borrows the decoder (preparing the tenant's model if nobody did yet).
    void acquire();
    void startUtterance(quint64 utterance);
    void process(quint64 utterance, const QVector<std::int16_t> &pcm16k);
    // Always answers with exactly one finalText for the utterance, even empty.
    void endUtterance(quint64 utterance);

Q_SIGNALS:
    void partialText(quint64 utterance, const QString &text);
    void finalText(quint64 utterance, const QString &text);
    void failed(const QString &reason);

private:
    bool cancelled() const { return m_shared->cancelled.load(std::memory_order_relaxed); }

    std::shared_ptr<PocketsphinxModelPool> m_pool;
    std::shared_ptr<Shared> m_shared;
    PocketsphinxModelPool::Lease m_decoder;
    log::CallLogger m_log;
    const int m_partialIntervalMs;
    bool m_failed = false;
    quint64 m_utterance = 0;
    QString m_lastPartial;
    QElapsedTimer m_sincePartial;
    qint64 m_utteranceSamples = 0;
    qint64 m_decodeNs = 0;
};

} // namespace apex
