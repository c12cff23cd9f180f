#include "tenancy/engineconfig.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStandardPaths>

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

// The shipped resources (the sample config with the demo tenant): installed, they
// sit in <prefix>/share/apex next to <prefix>/bin, wherever the prefix is (/usr
// for the .deb); in a build tree there is no such folder and the source tree's
// resources/ is used.
QString resourcesDir()
{
    if (QCoreApplication::instance()) {
        const QDir installed(QCoreApplication::applicationDirPath() + QStringLiteral("/../share/apex"));
        if (installed.exists(QStringLiteral("config")))
            return installed.canonicalPath();
    }
    return QStringLiteral(APEX_RESOURCES_DIR);
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
    return resourcesDir() + QStringLiteral("/config/apex.json");
}

void EngineConfigLoader::applyEnvironment(EngineConfig &config)
{
    if (qEnvironmentVariableIsSet("APEX_LISTEN"))
        config.listen = qEnvironmentVariable("APEX_LISTEN");
    if (qEnvironmentVariableIsSet("APEX_PUBLIC_URL"))
        config.publicUrl = qEnvironmentVariable("APEX_PUBLIC_URL");
    if (qEnvironmentVariableIsSet("APEX_OPERATOR_TOKEN"))
        config.operatorToken = qEnvironmentVariable("APEX_OPERATOR_TOKEN");
    if (qEnvironmentVariableIsSet("APEX_HISTORY_URL"))
        config.history.url = qEnvironmentVariable("APEX_HISTORY_URL");
    config.providers.applyEnvironment();
}

QString EngineConfigLoader::defaultHistoryUrl()
{
    QString dir = qEnvironmentVariable("STATE_DIRECTORY").section(QLatin1Char(':'), 0, 0);
    if (dir.isEmpty())
        dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (dir.isEmpty())
        dir = QDir::currentPath();
    return QStringLiteral("sqlite://") + QDir(dir).absoluteFilePath(QStringLiteral("history.sqlite"));
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
                              || p.redisUrl.contains(QLatin1Char('@')) || !p.twilioAuthToken.isEmpty()
                              || !p.wahaApiKey.isEmpty() || !p.wahaHmacKey.isEmpty()
                              || !config->operatorToken.isEmpty();
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
    t.silenceBudgetMs = o.value(QLatin1String("silenceBudgetMs")).toInt(t.silenceBudgetMs);
    t.holdLine = stringField(o, "holdLine", t.holdLine);
    t.goodbyeLine = stringField(o, "goodbyeLine", t.goodbyeLine);
    t.llmConcurrencyQuota = o.value(QLatin1String("llmConcurrencyQuota")).toInt(t.llmConcurrencyQuota);
    t.whatsappSession = stringField(o, "whatsappSession");
    t.whatsappMediaReply = stringField(o, "whatsappMediaReply", t.whatsappMediaReply);
    t.historyRetentionDays = o.value(QLatin1String("historyRetentionDays")).toInt(t.historyRetentionDays);
    if (t.historyRetentionDays < 1 || t.historyRetentionDays > 36500) {
        fail(error, QStringLiteral("tenant %1: historyRetentionDays must be 1..36500").arg(t.id));
        return std::nullopt;
    }
    if (t.silenceBudgetMs < 300 || t.silenceBudgetMs > 10000 || t.llmConcurrencyQuota < 0) {
        fail(error, QStringLiteral("tenant %1: silenceBudgetMs must be 300..10000 and llmConcurrencyQuota 0 or more").arg(t.id));
        return std::nullopt;
    }
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
    if (o.contains(QLatin1String("bargeIn"))) {
        const QJsonObject b = o.value(QLatin1String("bargeIn")).toObject();
        auto list = [&b](const char *key) -> std::optional<QStringList> {
            if (!b.contains(QLatin1String(key)))
                return std::nullopt;
            QStringList out;
            for (const auto &v : b.value(QLatin1String(key)).toArray())
                if (!v.toString().trimmed().isEmpty())
                    out << v.toString();
            return out;
        };
        t.bargeIn.backchannels = list("backchannels");
        t.bargeIn.stopWords = list("stopWords");
        t.bargeIn.maxBackchannelWords = b.value(QLatin1String("maxBackchannelWords")).toInt(t.bargeIn.maxBackchannelWords);
        t.bargeIn.minSpeechMs = b.value(QLatin1String("minSpeechMs")).toInt(t.bargeIn.minSpeechMs);
        if (t.bargeIn.maxBackchannelWords < 0 || t.bargeIn.maxBackchannelWords > 20 || t.bargeIn.minSpeechMs < 0
            || t.bargeIn.minSpeechMs > 5000) {
            fail(error, QStringLiteral("tenant %1: bargeIn.maxBackchannelWords must be 0..20 and bargeIn.minSpeechMs 0..5000").arg(t.id));
            return std::nullopt;
        }
    }
    if (o.contains(QLatin1String("preemptiveReply"))) {
        const QJsonObject p = o.value(QLatin1String("preemptiveReply")).toObject();
        t.preemptiveReply.enabled = p.value(QLatin1String("enabled")).toBool(t.preemptiveReply.enabled);
        t.preemptiveReply.stableMs = p.value(QLatin1String("stableMs")).toInt(t.preemptiveReply.stableMs);
        if (t.preemptiveReply.stableMs < 20 || t.preemptiveReply.stableMs > 2000) {
            fail(error, QStringLiteral("tenant %1: preemptiveReply.stableMs must be 20..2000").arg(t.id));
            return std::nullopt;
        }
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
    p.twilioAuthToken = stringField(providers, "twilioAuthToken", p.twilioAuthToken);
    p.wahaUrl = stringField(providers, "wahaUrl", p.wahaUrl);
    p.wahaApiKey = stringField(providers, "wahaApiKey", p.wahaApiKey);
    p.wahaHmacKey = stringField(providers, "wahaHmacKey", p.wahaHmacKey);
    config.operatorToken = stringField(root, "operatorToken");
    if (QString limitsError; !config.limits.read(root.value(QLatin1String("limits")).toObject(), &limitsError)) {
        fail(error, limitsError);
        return std::nullopt;
    }
    config.drainMs = root.value(QLatin1String("drainMs")).toInt(config.drainMs);
    if (config.drainMs < 0) {
        fail(error, QStringLiteral("drainMs must be 0 or more"));
        return std::nullopt;
    }
    const QJsonObject governance = root.value(QLatin1String("governance")).toObject();
    GovernanceSettings &g = config.governance;
    const struct { const char *name; int *field; int minimum; } numbers[] = {
        {"breakerCoolDownMs", &g.breakerCoolDownMs, 100},
        {"azureFailureThreshold", &g.azureFailureThreshold, 1},
        {"llmFailureThreshold", &g.llmFailureThreshold, 1},
        {"deepgramFailureThreshold", &g.deepgramFailureThreshold, 1},
        {"llmConcurrencyInitial", &g.llmConcurrencyInitial, 1},
        {"llmConcurrencyCeiling", &g.llmConcurrencyCeiling, 1},
        {"ttsFirstAudioDeadlineMs", &g.ttsFirstAudioDeadlineMs, 0},
        {"ttsStallMs", &g.ttsStallMs, 0},
        {"llmStallMs", &g.llmStallMs, 0},
        {"sttResultDeadlineMs", &g.sttResultDeadlineMs, 0},
        {"httpConnectionsPerProvider", &g.httpConnectionsPerProvider, 6},
        {"wahaFailureThreshold", &g.wahaFailureThreshold, 1},
    };
    for (const auto &n : numbers) {
        *n.field = governance.value(QLatin1String(n.name)).toInt(*n.field);
        if (*n.field < n.minimum) {
            fail(error, QStringLiteral("governance.%1 must be at least %2").arg(QLatin1String(n.name)).arg(n.minimum));
            return std::nullopt;
        }
    }
    const QJsonObject whatsapp = root.value(QLatin1String("whatsapp")).toObject();
    WhatsAppSettings &w = config.whatsapp;
    w.webhookPath = stringField(whatsapp, "webhookPath", w.webhookPath);
    if (!w.webhookPath.startsWith(QLatin1Char('/')) || w.webhookPath.contains(QLatin1Char('<'))) {
        fail(error, QStringLiteral("whatsapp.webhookPath must be a plain path starting with '/'"));
        return std::nullopt;
    }
    const struct { const char *name; int *field; int minimum; int maximum; } whatsappNumbers[] = {
        {"maxMessageChars", &w.maxMessageChars, 100, 65536},
        {"dedupeWindowSeconds", &w.dedupeWindowSeconds, 1, 7 * 86400},
        {"dedupeCapacity", &w.dedupeCapacity, 1, 10'000'000},
        {"outboxCapacity", &w.outboxCapacity, 1, 1'000'000},
        {"outboxMaxAgeSeconds", &w.outboxMaxAgeSeconds, 1, 7 * 86400},
        {"requestTimeoutMs", &w.requestTimeoutMs, 100, 600'000},
        {"replyDeadlineMs", &w.replyDeadlineMs, 100, 600'000},
    };
    for (const auto &n : whatsappNumbers) {
        *n.field = whatsapp.value(QLatin1String(n.name)).toInt(*n.field);
        if (*n.field < n.minimum || *n.field > n.maximum) {
            fail(error, QStringLiteral("whatsapp.%1 must be %2..%3").arg(QLatin1String(n.name)).arg(n.minimum).arg(n.maximum));
            return std::nullopt;
        }
    }
    const QJsonObject history = root.value(QLatin1String("history")).toObject();
    HistorySettings &h = config.history;
    h.url = stringField(history, "url", defaultHistoryUrl());
    h.queueCapacity = history.value(QLatin1String("queueCapacity")).toInt(h.queueCapacity);
    h.batchMaxRows = history.value(QLatin1String("batchMaxRows")).toInt(h.batchMaxRows);
    if (h.queueCapacity < 1 || h.batchMaxRows < 1) {
        fail(error, QStringLiteral("history.queueCapacity and history.batchMaxRows must be at least 1"));
        return std::nullopt;
    }
    if (h.url != QLatin1String("off") && !h.url.startsWith(QLatin1String("sqlite://"))
        && !h.url.startsWith(QLatin1String("postgresql://")) && !h.url.startsWith(QLatin1String("postgres://"))) {
        fail(error, QStringLiteral("history.url must be sqlite:///path, postgresql://user:pass@host:port/db or off"));
        return std::nullopt;
    }
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
