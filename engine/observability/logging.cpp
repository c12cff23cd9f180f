#include "observability/logging.h"

#include <QtGlobal>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace apex::log {

namespace {

std::mutex g_mutex;
spdlog::sink_ptr g_sink;
spdlog::level::level_enum g_level = spdlog::level::info;

spdlog::sink_ptr sink()
{
    if (!g_sink) {
        g_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        g_sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
    }
    return g_sink;
}

void qtMessageHandler(QtMsgType type, const QMessageLogContext &, const QString &message)
{
    static const auto qtLogger = get("qt");
    const std::string text = "call=- tenant=- " + message.toStdString();
    switch (type) {
    case QtDebugMsg: qtLogger->debug(text); break;
    case QtInfoMsg: qtLogger->info(text); break;
    case QtWarningMsg: qtLogger->warn(text); break;
    case QtCriticalMsg:
    case QtFatalMsg: qtLogger->error(text); break;
    }
}

} // namespace

void initialize(spdlog::level::level_enum level)
{
    std::lock_guard lock(g_mutex);
    g_level = level;
    spdlog::apply_all([level](const std::shared_ptr<spdlog::logger> &l) { l->set_level(level); });
    static bool handlerInstalled = false;
    if (!handlerInstalled) {
        handlerInstalled = true;
        qInstallMessageHandler(qtMessageHandler);
    }
}

std::shared_ptr<spdlog::logger> get(std::string_view concern)
{
    std::lock_guard lock(g_mutex);
    const std::string name(concern);
    if (auto existing = spdlog::get(name))
        return existing;
    auto logger = std::make_shared<spdlog::logger>(name, sink());
    logger->set_level(g_level);
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
    return logger;
}

CallLogger::CallLogger(std::string_view concern, const QString &callId, const QString &tenant)
    : m_logger(get(concern))
{
    bind(callId, tenant);
}

void CallLogger::bind(const QString &callId, const QString &tenant)
{
    m_prefix = "call=" + (callId.isEmpty() ? std::string("-") : callId.toStdString()) + " tenant="
               + (tenant.isEmpty() ? std::string("-") : tenant.toStdString()) + " ";
}

void CallLogger::write(spdlog::level::level_enum level, const std::string &message) const
{
    m_logger->log(level, "{}{}", m_prefix, message);
}

} // namespace apex::log
