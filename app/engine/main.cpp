// apex-engine: the engine without a window, for servers and for the demo.
#include "host/callmonitor.h"
#include "host/calltext.h"
#include "host/enginehost.h"
#include "host/quitonsignals.h"
#include "http/securitycheck.h"
#include "observability/logging.h"
#include "tenancy/engineconfig.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>


int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("apex-engine"));
    QCoreApplication::setApplicationVersion(QStringLiteral(APEX_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("APEX speech-to-speech engine, headless."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("Config file (default: $APEX_CONFIG, ~/.config/apex/apex.json, the shipped sample)."), QStringLiteral("file"));
    const QCommandLineOption listenOption(QStringLiteral("listen"), QStringLiteral("Address to listen on (default: $APEX_LISTEN or the config's, 127.0.0.1:8080). Port 0 picks a free one."), QStringLiteral("host:port"));
    const QCommandLineOption demoOption(QStringLiteral("demo"), QStringLiteral("Place one simulated call in process, print its transcript and latencies, and exit."));
    const QCommandLineOption prewarmOption(QStringLiteral("prewarm"), QStringLiteral("Fill the TTS cache with a tenant's fixed phrases (greeting, FAQ answers, quoted prompt lines), print progress, and exit."), QStringLiteral("tenant"));
    const QCommandLineOption checkOption(QStringLiteral("check-config"), QStringLiteral("Print the configuration the engine would use (keys masked) and exit."));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"), QStringLiteral("Debug logging."));
    parser.addOptions({configOption, listenOption, demoOption, prewarmOption, checkOption, verboseOption});
    parser.process(app);

    apex::log::initialize(parser.isSet(verboseOption) ? spdlog::level::debug : spdlog::level::info);
    auto log = apex::log::get("main");

    apex::ConfigError configError;
    const QString configPath = apex::EngineConfigLoader::resolvePath(parser.value(configOption));
    auto config = apex::EngineConfigLoader::loadFile(configPath, &configError);
    if (!config) {
        log->error("call=- tenant=- {}", configError.message);
        return 2;
    }
    apex::EngineConfigLoader::applyEnvironment(*config);
    if (parser.isSet(listenOption))
        config->listen = parser.value(listenOption);
    if (parser.isSet(checkOption)) {
        QTextStream(stdout) << apex::describeConfig(*config);
        for (const QString &warning : apex::securityWarnings(*config))
            QTextStream(stdout) << "warning: " << warning << "\n";
        return 0;
    }
    if (parser.isSet(prewarmOption)) {
        // A one-off job: no competing warm-up of the other tenants, no fixed port.
        config->prewarmAtStart = false;
        if (!parser.isSet(listenOption))
            config->listen = QStringLiteral("127.0.0.1:0");
    }
    if (parser.isSet(demoOption) && !parser.isSet(listenOption) && !qEnvironmentVariableIsSet("APEX_LISTEN"))
        config->listen = QStringLiteral("127.0.0.1:0"); // the demo must not fight a running engine for 8080

    apex::EngineHost host(*config);
    QString error;
    if (!host.start(&error)) {
        log->error("call=- tenant=- cannot start: {}", error);
        return 1;
    }
    log->info("call=- tenant=- listening on {} (config {})", host.listenAddress(), config->sourcePath);

    if (parser.isSet(prewarmOption)) {
        const QString tenantId = parser.value(prewarmOption);
        if (config->providers.redisUrl.isEmpty())
            log->warn("call=- tenant={} no REDIS_URL: the warmed cache lives only as long as this process", tenantId);
        QObject::connect(&host, &apex::EngineHost::prewarmProgress, &app, [](const QString &tenant, int done, int total) {
            QTextStream(stdout) << "pre-warm " << tenant << ": " << done << "/" << total << "\n";
        });
        QObject::connect(&host, &apex::EngineHost::prewarmFinished, &app, [](const QString &tenant, const QJsonObject &stats) {
            QTextStream(stdout) << "pre-warm " << tenant << " finished: "
                                << QJsonDocument(stats).toJson(QJsonDocument::Compact) << "\n";
            QCoreApplication::exit(stats.contains(QStringLiteral("error")) || stats.value(QStringLiteral("failed")).toInt() > 0 ? 1 : 0);
        });
        host.prewarm(tenantId);
    }

    if (parser.isSet(demoOption)) {
        QObject::connect(&host, &apex::EngineHost::demoCallFinished, &app, [&](const QString &summary, bool ok) {
            QTextStream out(stdout);
            out << summary;
            out.flush();
            QCoreApplication::exit(ok ? 0 : 1);
        });
        host.placeDemoCall();
    }

    // SIGTERM (systemctl stop) drains: live calls finish, then the engine exits.
    QObject::connect(&host, &apex::EngineHost::drained, &app, &QCoreApplication::quit);
    apex::QuitOnSignals quitOnSignals([&host] { host.drain(); });
    // SIGHUP (systemctl reload): the tenants again from the same file. A file
    // that no longer loads changes nothing; other settings need a restart.
    quitOnSignals.onReload([&host, configPath, log] {
        apex::ConfigError reloadError;
        auto fresh = apex::EngineConfigLoader::loadFile(configPath, &reloadError);
        if (!fresh) {
            log->error("call=- tenant=- config reload refused, keeping the running tenants: {}", reloadError.message);
            return;
        }
        apex::EngineConfigLoader::applyEnvironment(*fresh);
        host.reloadTenants(*fresh);
    });
    return app.exec();
}
