#include "host/quitonsignals.h"

#include "observability/logging.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace apex {

namespace {
int g_fds[2] = {-1, -1};
} // namespace

QuitOnSignals::QuitOnSignals(QObject *parent)
    : QuitOnSignals(std::function<void()>(), parent)
{
}

QuitOnSignals::QuitOnSignals(std::function<void()> gracefulStop, QObject *parent)
    : QObject(parent)
    , m_gracefulStop(std::move(gracefulStop))
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_fds) != 0) {
        log::get("main")->warn("call=- tenant=- no socket pair for signals: SIGINT/SIGTERM end the process abruptly");
        return;
    }
    m_notifier = new QSocketNotifier(g_fds[1], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] {
        char signal = 0;
        if (::read(g_fds[1], &signal, 1) != 1)
            return;
        if (signal == SIGHUP) {
            log::get("main")->info("call=- tenant=- SIGHUP: re-reading the config");
            if (m_reload)
                m_reload();
            return;
        }
        if (m_gracefulStop && !m_stopping) {
            m_stopping = true;
            log::get("main")->info("call=- tenant=- signal {}: stopping gracefully (a second signal stops at once)", int(signal));
            m_gracefulStop();
            return;
        }
        log::get("main")->info("call=- tenant=- signal {}: shutting down", int(signal));
        QCoreApplication::quit();
    });
    struct sigaction action{};
    action.sa_handler = &QuitOnSignals::handle;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

void QuitOnSignals::onReload(std::function<void()> reload)
{
    m_reload = std::move(reload);
    if (!m_notifier)
        return;
    struct sigaction action{};
    action.sa_handler = &QuitOnSignals::handle;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGHUP, &action, nullptr);
}

QuitOnSignals::~QuitOnSignals()
{
    std::signal(SIGHUP, SIG_DFL);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    for (int &fd : g_fds) {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }
}

void QuitOnSignals::handle(int signal)
{
    const char byte = char(signal);
    [[maybe_unused]] const auto written = ::write(g_fds[0], &byte, 1);
}

} // namespace apex
