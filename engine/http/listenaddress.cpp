#include "http/listenaddress.h"

namespace apex {

namespace {

std::optional<ListenAddress> fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return std::nullopt;
}

} // namespace

std::optional<ListenAddress> ListenAddress::parse(QStringView text, QString *error)
{
    const QString input = text.trimmed().toString();
    if (input.isEmpty())
        return fail(error, QStringLiteral("listen address is empty; expected HOST:PORT such as 127.0.0.1:8080"));

    QString host;
    QString portText;
    if (input.startsWith(QLatin1Char('['))) {
        const qsizetype close = input.indexOf(QLatin1Char(']'));
        if (close < 0 || close + 1 >= input.size() || input.at(close + 1) != QLatin1Char(':'))
            return fail(error, QStringLiteral("\"%1\": expected [IPv6]:PORT").arg(input));
        host = input.mid(1, close - 1);
        portText = input.mid(close + 2);
    } else if (const qsizetype colon = input.lastIndexOf(QLatin1Char(':')); colon >= 0) {
        if (input.indexOf(QLatin1Char(':')) != colon)
            return fail(error, QStringLiteral("\"%1\": put an IPv6 address in brackets, e.g. [::1]:8080").arg(input));
        host = input.left(colon);
        portText = input.mid(colon + 1);
    } else {
        portText = input; // a bare port
        host = QStringLiteral("127.0.0.1");
    }

    bool ok = false;
    const uint port = portText.toUInt(&ok);
    if (!ok || port > 65535)
        return fail(error, QStringLiteral("\"%1\": port \"%2\" is not a number from 0 to 65535").arg(input, portText));

    ListenAddress result;
    result.port = quint16(port);
    if (host.isEmpty()) {
        result.host = QStringLiteral("0.0.0.0");
        result.address = QHostAddress(QHostAddress::Any);
    } else if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0) {
        result.host = host;
        result.address = QHostAddress(QHostAddress::LocalHost);
    } else {
        QHostAddress address;
        if (!address.setAddress(host))
            return fail(error, QStringLiteral("\"%1\": host \"%2\" is not an IP address (or localhost)").arg(input, host));
        result.host = host;
        result.address = address;
    }
    return result;
}

QString ListenAddress::toString() const
{
    if (address.protocol() == QAbstractSocket::IPv6Protocol)
        return QStringLiteral("[%1]:%2").arg(host).arg(port);
    return QStringLiteral("%1:%2").arg(host).arg(port);
}

} // namespace apex
