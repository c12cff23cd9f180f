#pragma once

#include <QVector>
#include <cstdint>

#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

class QTemporaryDir;

namespace apex {

class PocketsphinxDecoder;
class PronunciationDictionary;

// The decoders of one tenant (one language model), lent to calls and taken back
// when the call ends. Construction is cheap; prepare() writes the LM/dictionary
// into a temporary folder this pool owns and creates the first decoders: it is
// slow, so it runs at tenant load or on an STT worker, never on an engine thread.
// All methods are thread-safe; a lent decoder belongs to its borrower alone.
class PocketsphinxModelPool : public std::enable_shared_from_this<PocketsphinxModelPool>
{
public:
    struct Settings
    {
        int preloadedDecoders = 1; // made by prepare(), ready for the first call
        int maxIdleDecoders = 4;   // more returned than this are freed
        int lmOrder = 3;
        bool includeCommonCallPhrases = true;
        QString modelDir;          // empty: PocketsphinxDecoder::defaultModelDir()
        QStringList decoderArguments; // extra pocketsphinx options, e.g. {"-beam", "1e-60"}
        // Telephone-band speech (16 kHz PCM) each new decoder hears once before
        // its first call: live cepstral mean normalisation starts from the
        // model's wide-band prior and mishears a fresh decoder's first seconds.
        QVector<std::int16_t> channelPrimer16k;
    };

    // Returns the decoder to its pool when released; frees it if the pool is gone.
    using Lease = std::shared_ptr<PocketsphinxDecoder>;
    // Called by prepare(): loading cmudict is itself slow, so a pool made on an
    // engine thread gets the dictionary only when it prepares on a worker.
    using DictionarySource = std::function<std::shared_ptr<const PronunciationDictionary>(QString *error)>;

    PocketsphinxModelPool(QString name, QStringList sentences, DictionarySource dictionary, Settings settings);
    ~PocketsphinxModelPool();

    const QString &name() const { return m_name; }
    const QStringList &sentences() const { return m_sentences; }

    // Idempotent; later calls return the first outcome at once.
    bool prepare(QString *error = nullptr);
    // Blocks while it prepares or creates a decoder; null with *error on failure.
    Lease borrow(QString *error = nullptr);

    int idleDecoders() const;
    int decodersCreated() const;
    QStringList vocabulary() const;

private:
    std::unique_ptr<PocketsphinxDecoder> createDecoder(QString *error);
    void giveBack(std::unique_ptr<PocketsphinxDecoder> decoder);

    const QString m_name;
    const QStringList m_sentences;
    const DictionarySource m_dictionary;
    const Settings m_settings;

    // Held through the slow prepare() alone, so borrow() and giveBack() of a
    // prepared pool never wait on a decoder being built.
    mutable std::mutex m_prepareMutex;
    bool m_prepared = false;
    bool m_prepareFailed = false;
    QString m_prepareError;
    std::unique_ptr<QTemporaryDir> m_files;
    QString m_lmPath;
    QString m_dictPath;
    QStringList m_vocabulary;

    mutable std::mutex m_idleMutex;
    std::vector<std::unique_ptr<PocketsphinxDecoder>> m_idle;
    int m_created = 0;
};

} // namespace apex
