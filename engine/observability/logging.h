#pragma once

#include <QByteArray>
#include <QString>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

// Lets spdlog/fmt print Qt strings directly: log->info("{}", qstring).
template<>
struct fmt::formatter<QString> : fmt::formatter<std::string_view>
{
    template<typename Ctx>
    auto format(const QString &s, Ctx &ctx) const
    {
        const QByteArray utf8 = s.toUtf8();
        return fmt::formatter<std::string_view>::format(std::string_view(utf8.constData(), size_t(utf8.size())), ctx);
    }
};
template<>
struct fmt::formatter<QByteArray> : fmt::formatter<std::string_view>
{
    template<typename Ctx>
    auto format(const QByteArray &s, Ctx &ctx) const
    {
        return fmt::formatter<std::string_view>::format(std::string_view(s.constData(), size_t(s.size())), ctx);
    }
};

namespace apex::log {

// One logging pipe for the process: spdlog, a stderr sink, Qt's qDebug/qWarning
// routed into it. Safe to call more than once; later calls only change the level.
void initialize(spdlog::level::level_enum level = spdlog::level::info);

// The logger of one concern ("twilio", "stt", "tts", "pipeline", ...).
std::shared_ptr<spdlog::logger> get(std::string_view concern);

// A concern's logger bound to one call: every line carries the call id and the
// tenant, so a grep for either finds the whole call.
class CallLogger
{
public:
    CallLogger(std::string_view concern, const QString &callId = {}, const QString &tenant = {});

    void bind(const QString &callId, const QString &tenant);
    const std::string &prefix() const { return m_prefix; }

    template<typename... Args>
    void debug(fmt::format_string<Args...> f, Args &&...args) const { write(spdlog::level::debug, fmt::format(f, std::forward<Args>(args)...)); }
    template<typename... Args>
    void info(fmt::format_string<Args...> f, Args &&...args) const { write(spdlog::level::info, fmt::format(f, std::forward<Args>(args)...)); }
    template<typename... Args>
    void warn(fmt::format_string<Args...> f, Args &&...args) const { write(spdlog::level::warn, fmt::format(f, std::forward<Args>(args)...)); }
    template<typename... Args>
    void error(fmt::format_string<Args...> f, Args &&...args) const { write(spdlog::level::err, fmt::format(f, std::forward<Args>(args)...)); }

private:
    void write(spdlog::level::level_enum level, const std::string &message) const;

    std::shared_ptr<spdlog::logger> m_logger;
    std::string m_prefix;
};

} // namespace apex::log
