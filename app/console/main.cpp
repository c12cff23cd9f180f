// apex: the console with the engine embedded. Parses arguments, starts the
// engine on its own thread, shows the window; everything else lives in the
// engine and ui libraries.

#include "ui/mainwindow.h"
#include "ui/startuperrors.h"

#include "host/enginehost.h"
#include "host/quitonsignals.h"
#include "observability/logging.h"
#include "tenancy/engineconfig.h"

#include <QAction>
#include <QApplication>
#include <QCommandLineParser>
#include <QGuiApplication>
#include <QSettings>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <memory>

namespace {

// A demo call that has not finished by then is a hang: CI must fail, not wait.
constexpr int kDemoTimeoutMs = 90'000;

void printError(const QString &message)
{
    std::fprintf(stderr, "apex: %s\n", qPrintable(message));
}

// --help and --version must work where no display is (ssh, CI): QApplication
// aborts there before the parser gets to print anything.
std::unique_ptr<QCoreApplication> createApplication(int &argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        for (const char *infoOption : {"-h", "--help", "--help-all", "-?", "-v", "--version"}) {
            if (std::strcmp(argv[i], infoOption) == 0)
                return std::make_unique<QCoreApplication>(argc, argv);
        }
    }
    return std::make_unique<QApplication>(argc, argv);
}

// A start-up error goes to stderr always, and to a dialog when someone can see
// one: not on the offscreen/minimal platforms (tests, CI), not with --no-dialogs.
bool canShowDialogs(bool noDialogs)
{
    if (noDialogs || !qobject_cast<QApplication *>(QCoreApplication::instance()))
        return false;
    const QString platform = QGuiApplication::platformName();
    return platform != QLatin1String("offscreen") && platform != QLatin1String("minimal");
}

} // namespace

int main(int argc, char *argv[])
{
    const std::unique_ptr<QCoreApplication> app = createApplication(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("apex"));
    QCoreApplication::setApplicationVersion(QStringLiteral(APEX_VERSION));
    QGuiApplication::setDesktopFileName(QStringLiteral("apex")); // packaging/desktop/apex.desktop

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("APEX operator console with the phone agent engine embedded."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(
        QStringLiteral("config"), QStringLiteral("Engine configuration (default: $APEX_CONFIG, else the user's or the shipped one)."),
        QStringLiteral("file"));
    const QCommandLineOption listenOption(
        QStringLiteral("listen"), QStringLiteral("Address to listen on (default: $APEX_LISTEN or the configuration's). Port 0 picks a free one."),
        QStringLiteral("host:port"));
    const QCommandLineOption demoOption(QStringLiteral("demo"), QStringLiteral("Place a demo call right after start."));
    const QCommandLineOption quitAfterDemoOption(
        QStringLiteral("quit-after-demo"),
        QStringLiteral("Place a demo call, print its summary and exit: 0 if it went through, 1 if not. "
                       "Listens on a free port unless told otherwise."));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"), QStringLiteral("Debug logging."));
    const QCommandLineOption noDialogsOption(
        QStringLiteral("no-dialogs"), QStringLiteral("Report start-up errors on stderr only, without a dialog."));
    parser.addOptions({configOption, listenOption, demoOption, quitAfterDemoOption, verboseOption, noDialogsOption});
    parser.process(*app);

    apex::log::initialize(parser.isSet(verboseOption) ? spdlog::level::debug : spdlog::level::info);

    const QString configPath = apex::EngineConfigLoader::resolvePath(parser.value(configOption));
    apex::ConfigError configError;
    std::optional<apex::EngineConfig> config = apex::EngineConfigLoader::loadFile(configPath, &configError);
    const bool dialogs = canShowDialogs(parser.isSet(noDialogsOption) || parser.isSet(quitAfterDemoOption));
    if (!config) {
        printError(QStringLiteral("cannot load configuration %1: %2").arg(configPath, configError.message));
        if (dialogs)
            apex::startup::showConfigError(configPath, configError.message);
        return 2;
    }
    apex::EngineConfigLoader::applyEnvironment(*config);
    const bool quitAfterDemo = parser.isSet(quitAfterDemoOption);
    if (parser.isSet(listenOption))
        config->listen = parser.value(listenOption);
    else if (quitAfterDemo && !qEnvironmentVariableIsSet("APEX_LISTEN"))
        config->listen = QStringLiteral("127.0.0.1:0"); // a one-shot check must not fight a running engine for its port

    std::unique_ptr<apex::EngineHost> engine;
    for (;;) {
        engine = std::make_unique<apex::EngineHost>(*config);
        QString startError;
        if (engine->start(&startError))
            break;
        printError(QStringLiteral("cannot start the engine: %1").arg(startError));
        const QString retryOn = dialogs ? apex::startup::askAfterEngineError(config->listen, startError) : QString();
        if (retryOn.isEmpty())
            return 1;
        config->listen = retryOn;
    }
    apex::EngineHost &host = *engine;
    QObject::connect(&host, &apex::EngineHost::engineError, app.get(),
                     [](const QString &message) { printError(QStringLiteral("engine error: %1").arg(message)); });

    // ~/.config/apex/console.ini: the window's geometry and dock layout.
    QSettings settings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("apex"), QStringLiteral("console"));
    apex::MainWindow window(host.monitor(), &host);
    window.setSettings(&settings);
    window.restoreLayout();
    window.show();

    if (quitAfterDemo) {
        QObject::connect(&host, &apex::EngineHost::demoCallFinished, app.get(), [](const QString &summary, bool ok) {
            std::fputs(qPrintable(summary.endsWith(QLatin1Char('\n')) ? summary : summary + QLatin1Char('\n')), stdout);
            std::fflush(stdout);
            QCoreApplication::exit(ok ? 0 : 1);
        });
        QTimer::singleShot(kDemoTimeoutMs, app.get(), [] {
            printError(QStringLiteral("demo call did not finish within %1 s").arg(kDemoTimeoutMs / 1000));
            QCoreApplication::exit(1);
        });
    }
    if (quitAfterDemo || parser.isSet(demoOption)) {
        // Through the window's action, so the console shows the demo as running.
        QTimer::singleShot(0, window.demoCallAction(), &QAction::trigger);
    }

    // A signal (logout, kill) is an operator's decision already: no question,
    // even if Qt closes the windows on its way out.
    apex::QuitOnSignals quitOnSignals([&window] {
        window.setQuitConfirmation({});
        QCoreApplication::quit();
    });
    return app->exec();
}
