#pragma once

#include <QHostAddress>
#include <QString>
#include <QStringView>

#include <optional>

namespace apex {

// Where the engine listens, from "HOST:PORT" (--listen, APEX_LISTEN).
struct ListenAddress
{
    static constexpr quint16 kDefaultPort = 8080;

    QString host = QStringLiteral("127.0.0.1"); // as written (for messages and derived URLs)
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = kDefaultPort; // 0: ephemeral

    // Accepts "127.0.0.1:8080", "0.0.0.0:8080", "localhost:8080", "[::1]:8080",
    // ":8080" (all interfaces) and "8080" (loopback). Host names other than
    // localhost are refused: resolving would block start-up on DNS.
    static std::optional<ListenAddress> parse(QStringView text, QString *error = nullptr);

    QString toString() const;
};

} // namespace apex
