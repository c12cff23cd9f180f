#include "tenancy/engineconfig.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace apex {

namespace {

bool fail(ConfigError *error, const QString &message)
{
    if (error)
        error->message = message;
    return false;
}

QString stringField(const QJsonObject &o, const char *key, const QString &fallback = {})
{
    const auto v = o.value(QLatin1String(key));
    return v.isString() ? v.toString() : fallback;
}

} // namespace

QString EngineConfigLoader::resolvePath(const QString &commandLinePath)
{
    if (!commandLinePath.isEmpty())
        return commandLinePath;
    const QString fromEnv = qEnvironmentVariable("APEX_CONFIG");
    if (!fromEnv.isEmpty())
        return fromEnv;
    const QString user = QDir::homePath() + QStringLiteral("/.config/apex/apex.json");
    if (QFileInfo::exists(user))
        return user;
    return QStringLiteral(APEX_RESOURCES_DIR "/config/apex.json");
}

void EngineConfigLoader::applyEnvironment(EngineConfig &config)
{
    if (qEnvironmentVariableIsSet("APEX_LISTEN"))
        config.listen = qEnvironmentVariable("APEX_LISTEN");
    if (qEnvironmentVariableIsSet("APEX_PUBLIC_URL"))
        config.publicUrl = qEnvironmentVariable("APEX_PUBLIC_URL");
    config.providers.applyEnvironment();
}

std::optional<EngineConfig> EngineConfigLoader::loadFile(const QString &path, ConfigError *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        fail(error, QStringLiteral("cannot read config %1: %2").arg(path, file.errorString()));
        return std::nullopt;
    }
    auto config = parse(file.readAll(), error);
    if (!config) {
        if (error)
            error->message = path + QStringLiteral(": ") + error->message;
        return std::nullopt;
    }
    const ProviderConfig &p = config->providers;
    const bool holdsSecrets = !p.deepgramApiKey.isEmpty() || !p.llmApiKey.isEmpty() || !p.azureSpeechKey.isEmpty()
                              || p.redisUrl.contains(QLatin1Char('@'));
    const auto others = QFileDevice::ReadGroup | QFileDevice::ReadOther;
    if (holdsSecrets && (file.permissions() & others)) {
        fail(error, QStringLiteral("%1 holds API keys but others can read it: chmod 600 %1, or move the keys "
                                   "to the environment").arg(path));
        return std::nullopt;
    }
    config->sourcePath = path;
    return config;
}

std::optional<Tenant> EngineConfigLoader::parseTenant(const QJsonObject &o, ConfigError *error)
{
    Tenant t;
    t.id = stringField(o, "id");
    if (t.id.isEmpty()) {
        fail(error, QStringLiteral("a tenant has no \"id\""));
        return std::nullopt;
    }
    static const QRegularExpression validId(QStringLiteral("^[A-Za-z0-9_-]{1,64}$"));
    if (!validId.match(t.id).hasMatch()) {
        fail(error, QStringLiteral("tenant id \"%1\" must be 1-64 letters, digits, '-' or '_'").arg(t.id));
        return std::nullopt;
    }
    t.name = stringField(o, "name", t.id);
    t.language = stringField(o, "language", t.language);
    t.voice = stringField(o, "voice", t.voice);
    t.greeting = stringField(o, "greeting");
    t.systemPrompt = stringField(o, "systemPrompt");
    t.fallbackLine = stringField(o, "fallbackLine", t.fallbackLine);
    t.endpointingMs = o.value(QLatin1String("endpointingMs")).toInt(t.endpointingMs);
    t.sttProvider = stringField(o, "stt");
    t.llmProvider = stringField(o, "llm");
    t.ttsProvider = stringField(o, "tts");
    t.llmModel = stringField(o, "llmModel");
    t.llmFirstTokenDeadlineMs = o.value(QLatin1String("llmFirstTokenDeadlineMs")).toInt(0);
    t.ttsCacheTtlSeconds = o.value(QLatin1String("ttsCacheTtlSeconds")).toInt(t.ttsCacheTtlSeconds);
    static const QStringList stt{QString(), QStringLiteral("auto"), QStringLiteral("deepgram"), QStringLiteral("pocketsphinx")};
    static const QStringList llm{QString(), QStringLiteral("auto"), QStringLiteral("groq"), QStringLiteral("faq")};
    static const QStringList tts{QString(), QStringLiteral("auto"), QStringLiteral("azure"), QStringLiteral("embedded")};
    if (!stt.contains(t.sttProvider) || !llm.contains(t.llmProvider) || !tts.contains(t.ttsProvider)) {
        fail(error, QStringLiteral("tenant %1: stt must be auto|deepgram|pocketsphinx, llm auto|groq|faq, "
                                   "tts auto|azure|embedded").arg(t.id));
        return std::nullopt;
    }
    if (t.endpointingMs < 50 || t.endpointingMs > 5000) {
        fail(error, QStringLiteral("tenant %1: endpointingMs must be 50..5000").arg(t.id));
        return std::nullopt;
    }
    for (const auto &n : o.value(QLatin1String("numbers")).toArray())
        t.numbers << n.toString();
    for (const auto &value : o.value(QLatin1String("faq")).toArray()) {
        const auto entry = value.toObject();
        FaqEntry faq{stringField(entry, "question"), stringField(entry, "answer"), {}};
        if (faq.question.isEmpty() || faq.answer.isEmpty()) {
            fail(error, QStringLiteral("tenant %1: every FAQ entry needs a question and an answer").arg(t.id));
            return std::nullopt;
        }
        for (const auto &k : entry.value(QLatin1String("keywords")).toArray())
            faq.keywords << k.toString();
        t.faq << faq;
    }
    return t;
}

std::optional<EngineConfig> EngineConfigLoader::parse(const QByteArray &json, ConfigError *error)
{
    QJsonParseError parseError;
    const auto doc = QJsonDocument::fromJson(json, &parseError);
    if (doc.isNull()) {
        fail(error, QStringLiteral("invalid JSON at offset %1: %2").arg(parseError.offset).arg(parseError.errorString()));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        fail(error, QStringLiteral("the top level must be an object"));
        return std::nullopt;
    }
    const auto root = doc.object();
    EngineConfig config;
    config.listen = stringField(root, "listen", config.listen);
    config.publicUrl = stringField(root, "publicUrl");
    config.defaultTenantId = stringField(root, "defaultTenant");
    const QJsonObject providers = root.value(QLatin1String("providers")).toObject();
    ProviderConfig &p = config.providers;
    p.deepgramApiKey = stringField(providers, "deepgramApiKey", p.deepgramApiKey);
    p.deepgramUrl = stringField(providers, "deepgramUrl", p.deepgramUrl);
    p.deepgramModel = stringField(providers, "deepgramModel", p.deepgramModel);
    p.llmApiKey = stringField(providers, "llmApiKey", p.llmApiKey);
    p.llmBaseUrl = stringField(providers, "llmBaseUrl", p.llmBaseUrl);
    p.llmModel = stringField(providers, "llmModel", p.llmModel);
    p.azureSpeechKey = stringField(providers, "azureSpeechKey", p.azureSpeechKey);
    p.azureSpeechRegion = stringField(providers, "azureSpeechRegion", p.azureSpeechRegion);
    p.azureTtsUrl = stringField(providers, "azureTtsUrl", p.azureTtsUrl);
    p.azureOutputFormat = stringField(providers, "azureOutputFormat", p.azureOutputFormat);
    p.redisUrl = stringField(providers, "redisUrl", p.redisUrl);
    for (const auto &value : root.value(QLatin1String("tenants")).toArray()) {
        auto tenant = parseTenant(value.toObject(), error);
        if (!tenant)
            return std::nullopt;
        for (const auto &existing : std::as_const(config.tenants)) {
            if (existing.id == tenant->id) {
                fail(error, QStringLiteral("tenant id \"%1\" appears twice").arg(tenant->id));
                return std::nullopt;
            }
        }
        config.tenants << *tenant;
    }
    if (config.tenants.isEmpty()) {
        fail(error, QStringLiteral("no tenants configured"));
        return std::nullopt;
    }
    if (config.defaultTenantId.isEmpty())
        config.defaultTenantId = config.tenants.first().id;
    bool found = false;
    for (const auto &t : std::as_const(config.tenants))
        found = found || t.id == config.defaultTenantId;
    if (!found) {
        fail(error, QStringLiteral("defaultTenant \"%1\" is not among the tenants").arg(config.defaultTenantId));
        return std::nullopt;
    }
    return config;
}

} // namespace apex
