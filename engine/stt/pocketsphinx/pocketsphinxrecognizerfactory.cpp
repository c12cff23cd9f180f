#include "stt/pocketsphinx/pocketsphinxrecognizerfactory.h"

#include "observability/logging.h"
#include "stt/pocketsphinx/pocketsphinxdecoder.h"
#include "stt/pocketsphinx/pronunciationdictionary.h"
#include "stt/pocketsphinx/sttworkerthreads.h"
#include "stt/pocketsphinx/tenantlanguagemodel.h"
#include "tenancy/tenant.h"

#include <QDir>

namespace apex {

PocketsphinxRecognizerFactory::PocketsphinxRecognizerFactory()
    : PocketsphinxRecognizerFactory(Settings{})
{
}

PocketsphinxRecognizerFactory::PocketsphinxRecognizerFactory(Settings settings)
    : m_settings(std::move(settings))
    , m_threads(std::make_unique<SttWorkerThreads>(m_settings.workerThreads))
{
}

PocketsphinxRecognizerFactory::~PocketsphinxRecognizerFactory()
{
    // Threads first: workers still on them are deleted as they finish, and
    // return their decoders to pools that are still alive.
    m_threads.reset();
}

std::shared_ptr<const PronunciationDictionary> PocketsphinxRecognizerFactory::dictionary(QString *error)
{
    std::lock_guard lock(m_dictionaryMutex);
    if (!m_dictionary && m_dictionaryError.isEmpty()) {
        QString path = m_settings.dictionaryPath;
        if (path.isEmpty()) {
            path = m_settings.modelDir.isEmpty()
                ? PronunciationDictionary::defaultPath()
                : QDir(m_settings.modelDir).filePath(QStringLiteral("cmudict-en-us.dict"));
        }
        m_dictionary = PronunciationDictionary::load(path, &m_dictionaryError);
    }
    if (!m_dictionary && error)
        *error = m_dictionaryError;
    return m_dictionary;
}

std::shared_ptr<PocketsphinxModelPool> PocketsphinxRecognizerFactory::poolFor(const Tenant &tenant)
{
    const QStringList sentences = TenantLanguageModel::tenantSentences(tenant);
    std::lock_guard lock(m_poolsMutex);
    auto &versions = m_pools[tenant.id];
    for (const auto &pool : std::as_const(versions)) {
        if (pool->sentences() == sentences)
            return pool;
    }
    PocketsphinxModelPool::Settings poolSettings = m_settings.pool;
    if (poolSettings.modelDir.isEmpty())
        poolSettings.modelDir = m_settings.modelDir;
    // The pool may outlive nothing but the factory's recognizers, so `this` is safe.
    auto pool = std::make_shared<PocketsphinxModelPool>(
        tenant.id.isEmpty() ? QStringLiteral("(default)") : tenant.id, sentences,
        [this](QString *error) { return dictionary(error); }, poolSettings);
    versions.prepend(pool);
    // Calls on an older version hold their decoders' pool themselves.
    while (versions.size() > kVersionsPerTenant)
        versions.removeLast();
    return pool;
}

void PocketsphinxRecognizerFactory::prepareTenant(const Tenant &tenant)
{
    if (!tenant.language.isEmpty() && !tenant.language.startsWith(QLatin1String("en")))
        log::get("stt")->warn("tenant {} speaks {}: pocketsphinx has only an English model", tenant.id, tenant.language);
    poolFor(tenant)->prepare();
}

std::unique_ptr<SpeechRecognizer> PocketsphinxRecognizerFactory::create(const Tenant &tenant, const QString &callId)
{
    auto settings = PocketsphinxRecognizer::settingsFor(tenant);
    settings.callId = callId;
    return createRecognizer(tenant, settings);
}

std::unique_ptr<PocketsphinxRecognizer> PocketsphinxRecognizerFactory::createRecognizer(
    const Tenant &tenant, PocketsphinxRecognizer::Settings settings)
{
    return std::make_unique<PocketsphinxRecognizer>(poolFor(tenant), m_threads->next(), std::move(settings));
}

} // namespace apex
