// apex-engine: the engine without a window, for servers and for the demo.
#include "history/historyexport.h"
#include "history/historyurl.h"
#include "host/callmonitor.h"
#include "host/calltext.h"
#include "host/enginehost.h"
#include "host/quitonsignals.h"
#include "http/securitycheck.h"
#include "observability/logging.h"
#include "tenancy/engineconfig.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDate>
#include <QFile>
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
    const QCommandLineOption exportOption(QStringLiteral("export"), QStringLiteral("Write a tenant's call and chat history (--from, --to, --format, --output) and exit."), QStringLiteral("tenant"));
    const QCommandLineOption fromOption(QStringLiteral("from"), QStringLiteral("--export: first day, UTC (default: 30 days ago)."), QStringLiteral("YYYY-MM-DD"));
    const QCommandLineOption toOption(QStringLiteral("to"), QStringLiteral("--export: last day, UTC, included (default: today)."), QStringLiteral("YYYY-MM-DD"));
    const QCommandLineOption formatOption(QStringLiteral("format"), QStringLiteral("--export: jsonl (default) or csv."), QStringLiteral("jsonl|csv"), QStringLiteral("jsonl"));
    const QCommandLineOption outputOption(QStringLiteral("output"), QStringLiteral("--export: file to write (default: stdout)."), QStringLiteral("file"));
    parser.addOptions({configOption, listenOption, demoOption, prewarmOption, checkOption, verboseOption,
                       exportOption, fromOption, toOption, formatOption, outputOption});
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
    if (parser.isSet(exportOption)) {
        // Errors on stderr in plain words: this is a command a person types.
        QTextStream err(stderr);
        const QString tenantId = parser.value(exportOption);
        bool known = false;
        for (const auto &tenant : std::as_const(config->tenants))
            known = known || tenant.id == tenantId;
        if (!known) {
            err << "apex-engine: unknown tenant \"" << tenantId << "\" (not in " << config->sourcePath << ")\n";
            return 2;
        }
        const QDate today = QDateTime::currentDateTimeUtc().date();
        const QDate from = parser.isSet(fromOption) ? QDate::fromString(parser.value(fromOption), Qt::ISODate) : today.addDays(-30);
        const QDate to = parser.isSet(toOption) ? QDate::fromString(parser.value(toOption), Qt::ISODate) : today;
        if (!from.isValid() || !to.isValid()) {
            err << "apex-engine: --from and --to take a date as YYYY-MM-DD\n";
            return 2;
        }
        if (from > to) {
            err << "apex-engine: --from " << from.toString(Qt::ISODate) << " is after --to " << to.toString(Qt::ISODate) << "\n";
            return 2;
        }
        const QString format = parser.value(formatOption);
        if (format != QLatin1String("jsonl") && format != QLatin1String("csv")) {
            err << "apex-engine: --format is jsonl or csv, not \"" << format << "\"\n";
            return 2;
        }
        QString error;
        const apex::HistoryUrl url = apex::HistoryUrl::parse(config->history.url, &error);
        if (!url.isEnabled()) {
            err << "apex-engine: " << (error.isEmpty() ? QStringLiteral("the history is off (history.url)") : error) << "\n";
            return 2;
        }
        QFile out;
        if (parser.isSet(outputOption)) {
            out.setFileName(parser.value(outputOption));
            if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
                err << "apex-engine: cannot write " << out.fileName() << ": " << out.errorString() << "\n";
                return 1;
            }
        } else if (!out.open(stdout, QIODevice::WriteOnly)) {
            return 1;
        }
        if (!apex::HistoryExport::run(url, tenantId, from, to,
                                      format == QLatin1String("csv") ? apex::HistoryExportFormat::Csv : apex::HistoryExportFormat::Jsonl,
                                      out, &error)) {
            err << "apex-engine: " << error << "\n";
            return 1;
        }
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
