#pragma once

#include "stt/pocketsphinx/pocketsphinxmodelpool.h"
#include "stt/pocketsphinx/pocketsphinxrecognizer.h"
#include "stt/speechrecognizer.h"

#include <QHash>
#include <QString>

#include <memory>
#include <mutex>

namespace apex {

class PronunciationDictionary;
class SttWorkerThreads;

// The embedded, offline STT provider ("pocketsphinx"): one decoder pool per
// tenant, built from the tenant's FAQ, and a few shared decoding threads.
// prepareTenant() may be called from any thread (it blocks while building);
// create() from any engine thread (it never blocks: an unprepared tenant is
// prepared on the STT worker by the first call that needs it).
// Destroy every recognizer before the factory.
class PocketsphinxRecognizerFactory : public SpeechRecognizerFactory
{
public:
    struct Settings
    {
        int workerThreads = 0;         // "stt-N" threads; 0: one per core
        QString modelDir;              // empty: $APEX_POCKETSPHINX_MODEL_DIR or the build-time folder
        QString dictionaryPath;        // empty: cmudict-en-us.dict in modelDir
        PocketsphinxModelPool::Settings pool;
    };

    PocketsphinxRecognizerFactory();
    explicit PocketsphinxRecognizerFactory(Settings settings);
    ~PocketsphinxRecognizerFactory() override;

    QString name() const override { return QStringLiteral("pocketsphinx"); }
    void prepareTenant(const Tenant &tenant) override;
    std::unique_ptr<SpeechRecognizer> create(const Tenant &tenant, const QString &callId) override;
    // Same as create(), with a call id on the log lines and recognizer settings spelled out.
    std::unique_ptr<PocketsphinxRecognizer> createRecognizer(const Tenant &tenant,
                                                             PocketsphinxRecognizer::Settings settings);

    // The tenant's pool (made unprepared if needed); a tenant whose FAQ changed gets a new one.
    std::shared_ptr<PocketsphinxModelPool> poolFor(const Tenant &tenant);

private:
    std::shared_ptr<const PronunciationDictionary> dictionary(QString *error);

    const Settings m_settings;
    std::unique_ptr<SttWorkerThreads> m_threads;

    std::mutex m_dictionaryMutex;
    std::shared_ptr<const PronunciationDictionary> m_dictionary;
    QString m_dictionaryError;

    std::mutex m_poolsMutex;
    // By tenant id, newest first: while a reloaded tenant's model is built,
    // new calls still borrow from the previous version's pool.
    QHash<QString, QList<std::shared_ptr<PocketsphinxModelPool>>> m_pools;
    static constexpr int kVersionsPerTenant = 2;
};

} // namespace apex
