#include "telephony/twiml.h"

namespace apex::twiml {

QString xmlEscape(QStringView text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        switch (c.unicode()) {
        case '&': out += QLatin1String("&amp;"); break;
        case '<': out += QLatin1String("&lt;"); break;
        case '>': out += QLatin1String("&gt;"); break;
        case '"': out += QLatin1String("&quot;"); break;
        case '\'': out += QLatin1String("&apos;"); break;
        default: out += c;
        }
    }
    return out;
}

QByteArray connectStream(const QString &streamUrl, const QList<QPair<QString, QString>> &parameters)
{
    QString xml = QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"%1\">")
                      .arg(xmlEscape(streamUrl));
    for (const auto &[name, value] : parameters)
        xml += QStringLiteral("<Parameter name=\"%1\" value=\"%2\"/>").arg(xmlEscape(name), xmlEscape(value));
    xml += QLatin1String("</Stream></Connect></Response>");
    return xml.toUtf8();
}

QByteArray sayAndHangUp(const QString &text)
{
    return QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>%1</Say><Hangup/></Response>")
        .arg(xmlEscape(text))
        .toUtf8();
}

} // namespace apex::twiml
