#include "history/historyurl.h"

#include <QUrl>
#include <QUrlQuery>

namespace apex {

HistoryUrl HistoryUrl::parse(const QString &text, QString *error)
{
    HistoryUrl url;
    if (text.isEmpty() || text == QLatin1String("off"))
        return url;
    if (text.startsWith(QLatin1String("sqlite://"))) {
        url.path = text.mid(int(qstrlen("sqlite://")));
        if (url.path.isEmpty()) {
            *error = QStringLiteral("history url %1 names no file").arg(text);
            return {};
        }
        url.backend = Backend::Sqlite;
        return url;
    }
    if (text.startsWith(QLatin1String("postgresql://")) || text.startsWith(QLatin1String("postgres://"))) {
        const QUrl parsed(text, QUrl::StrictMode);
        if (!parsed.isValid() || parsed.host().isEmpty()) {
            // Never echo the URL: it may hold the password.
            *error = QStringLiteral("history url is not a valid postgresql://user:password@host:port/db URL");
            return {};
        }
        url.backend = Backend::Postgres;
        url.host = parsed.host();
        url.port = parsed.port(5432);
        url.user = parsed.userName(QUrl::FullyDecoded);
        url.password = parsed.password(QUrl::FullyDecoded);
        url.database = parsed.path().mid(1);
        if (url.database.isEmpty())
            url.database = url.user.isEmpty() ? QStringLiteral("apex") : url.user;
        // QPSQL takes libpq options as "key=value;key=value" (sslmode=require, ...).
        const QUrlQuery query(parsed);
        QStringList options;
        for (const auto &item : query.queryItems(QUrl::FullyDecoded))
            options << item.first + QLatin1Char('=') + item.second;
        url.options = options.join(QLatin1Char(';'));
        return url;
    }
    *error = QStringLiteral("history url must start with sqlite:// or postgresql://");
    return {};
}

QString HistoryUrl::display() const
{
    switch (backend) {
    case Backend::None: return QStringLiteral("off");
    case Backend::Sqlite: return QStringLiteral("sqlite://") + path;
    case Backend::Postgres:
        return QStringLiteral("postgresql://%1%2@%3:%4/%5")
            .arg(user, password.isEmpty() ? QString() : QStringLiteral(":…"), host)
            .arg(port)
            .arg(database);
    }
    return {};
}

} // namespace apex
