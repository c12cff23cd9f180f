#include "stt/pocketsphinx/pocketsphinxmodelpool.h"

#include "observability/logging.h"
#include "stt/pocketsphinx/pocketsphinxdecoder.h"
#include "stt/pocketsphinx/pronunciationdictionary.h"
#include "stt/pocketsphinx/tenantlanguagemodel.h"

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>

namespace apex {

PocketsphinxModelPool::PocketsphinxModelPool(QString name, QStringList sentences,
                                             DictionarySource dictionary, Settings settings)
    : m_name(std::move(name))
    , m_sentences(std::move(sentences))
    , m_dictionary(std::move(dictionary))
    , m_settings(std::move(settings))
{
}

PocketsphinxModelPool::~PocketsphinxModelPool() = default;

bool PocketsphinxModelPool::prepare(QString *error)
{
    std::lock_guard lock(m_prepareMutex);
    if (m_prepared || m_prepareFailed) {
        if (error && m_prepareFailed)
            *error = m_prepareError;
        return m_prepared;
    }
    const auto fail = [&](const QString &reason) {
        m_prepareFailed = true;
        m_prepareError = reason;
        log::get("stt")->error("pocketsphinx model for {}: {}", m_name, reason);
        if (error)
            *error = reason;
        return false;
    };
    QString dictionaryError;
    const auto dictionary = m_dictionary ? m_dictionary(&dictionaryError) : nullptr;
    if (!dictionary)
        return fail(dictionaryError.isEmpty() ? QStringLiteral("no pronunciation dictionary") : dictionaryError);

    QElapsedTimer timer;
    timer.start();
    TenantLanguageModel::Settings lmSettings;
    lmSettings.order = m_settings.lmOrder;
    lmSettings.includeCommonCallPhrases = m_settings.includeCommonCallPhrases;
    const TenantLanguageModel model = TenantLanguageModel::build(m_sentences, *dictionary, lmSettings);
    if (model.isEmpty())
        return fail(QStringLiteral("no word of the language model text is in the pronunciation dictionary"));

    auto files = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/apex-stt-XXXXXX"));
    if (!files->isValid())
        return fail(QStringLiteral("cannot create a temporary folder: %1").arg(files->errorString()));
    const QString lmPath = files->filePath(QStringLiteral("tenant.arpa"));
    const QString dictPath = files->filePath(QStringLiteral("tenant.dict"));
    QString writeError;
    if (!model.writeFiles(lmPath, dictPath, &writeError))
        return fail(writeError);
    m_files = std::move(files);
    m_lmPath = lmPath;
    m_dictPath = dictPath;
    m_vocabulary = model.vocabulary();

    std::vector<std::unique_ptr<PocketsphinxDecoder>> preloaded;
    for (int i = 0; i < std::max(1, m_settings.preloadedDecoders); ++i) {
        QString decoderError;
        auto decoder = createDecoder(&decoderError);
        if (!decoder)
            return fail(decoderError);
        preloaded.push_back(std::move(decoder));
    }
    {
        std::lock_guard idleLock(m_idleMutex);
        for (auto &decoder : preloaded)
            m_idle.push_back(std::move(decoder));
    }
    m_prepared = true;
    log::get("stt")->info("pocketsphinx model for {} ready: {} words, order {}, {} decoder(s) in {} ms",
                          m_name, model.vocabulary().size(), model.order(), preloaded.size(), timer.elapsed());
    return true;
}

std::unique_ptr<PocketsphinxDecoder> PocketsphinxModelPool::createDecoder(QString *error)
{
    PocketsphinxDecoder::Files files{m_settings.modelDir, m_lmPath, m_dictPath, m_settings.decoderArguments};
    auto decoder = PocketsphinxDecoder::create(files, error);
    if (decoder && !m_settings.channelPrimer16k.isEmpty()) {
        decoder->startUtterance();
        decoder->process(std::span<const std::int16_t>(m_settings.channelPrimer16k.constData(),
                                                       size_t(m_settings.channelPrimer16k.size())));
        decoder->endUtterance();
    }
    if (decoder) {
        std::lock_guard lock(m_idleMutex);
        ++m_created;
    }
    return decoder;
}

PocketsphinxModelPool::Lease PocketsphinxModelPool::borrow(QString *error)
{
    if (!prepare(error))
        return nullptr;
    std::unique_ptr<PocketsphinxDecoder> decoder;
    {
        std::lock_guard lock(m_idleMutex);
        if (!m_idle.empty()) {
            decoder = std::move(m_idle.back());
            m_idle.pop_back();
        }
    }
    if (!decoder) {
        // Paths are fixed once prepared, so a decoder can be built without the lock.
        decoder = createDecoder(error);
        if (!decoder)
            return nullptr;
    }
    std::weak_ptr<PocketsphinxModelPool> pool = weak_from_this();
    return Lease(decoder.release(), [pool](PocketsphinxDecoder *raw) {
        std::unique_ptr<PocketsphinxDecoder> owned(raw);
        if (auto alive = pool.lock())
            alive->giveBack(std::move(owned));
    });
}

void PocketsphinxModelPool::giveBack(std::unique_ptr<PocketsphinxDecoder> decoder)
{
    if (decoder->inUtterance())
        decoder->endUtterance();
    std::lock_guard lock(m_idleMutex);
    if (int(m_idle.size()) < m_settings.maxIdleDecoders)
        m_idle.push_back(std::move(decoder));
}

int PocketsphinxModelPool::idleDecoders() const
{
    std::lock_guard lock(m_idleMutex);
    return int(m_idle.size());
}

int PocketsphinxModelPool::decodersCreated() const
{
    std::lock_guard lock(m_idleMutex);
    return m_created;
}

QStringList PocketsphinxModelPool::vocabulary() const
{
    std::lock_guard lock(m_prepareMutex);
    return m_vocabulary;
}

} // namespace apex
