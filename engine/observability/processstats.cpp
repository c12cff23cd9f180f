#include "observability/processstats.h"

#include <QFile>

#include <sys/resource.h>
#include <unistd.h>

namespace apex {

ProcessStats ProcessStats::sample()
{
    ProcessStats stats;
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
        stats.cpuSeconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                           + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
        stats.peakResidentBytes = std::int64_t(usage.ru_maxrss) * 1024;
    }
    // /proc is served from memory: reading it costs no disk I/O.
    QFile status(QStringLiteral("/proc/self/status"));
    if (status.open(QIODevice::ReadOnly)) {
        const auto lines = status.readAll().split('\n');
        for (const auto &line : lines) {
            if (line.startsWith("VmRSS:"))
                stats.residentBytes = line.mid(6).trimmed().split(' ').value(0).toLongLong() * 1024;
            else if (line.startsWith("Threads:"))
                stats.threads = line.mid(8).trimmed().toInt();
        }
    }
    return stats;
}

} // namespace apex
