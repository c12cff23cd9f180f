#pragma once

#include <QString>

namespace apex {

// The history's database as config names it: sqlite:///path/file.sqlite or
// postgresql://user:password@host:port/db. The password is for the driver
// only; display() masks it for logs and --check-config.
struct HistoryUrl
{
    enum class Backend { None, Sqlite, Postgres };
    Backend backend = Backend::None;
    QString path;     // sqlite
    QString host;     // postgres
    int port = 5432;
    QString user;
    QString password;
    QString database;
    QString options;  // postgres: the query string, as QPSQL connect options

    static HistoryUrl parse(const QString &url, QString *error);
    QString display() const;
    bool isEnabled() const { return backend != Backend::None; }
};

} // namespace apex
