#include "telephony/twimlwriter.h"

#include <QXmlStreamWriter>

namespace apex::twiml {

namespace {

bool allowedInXml(char16_t c)
{
    if (c < 0x20)
        return c == u'\t' || c == u'\n' || c == u'\r';
    return c != 0xFFFE && c != 0xFFFF;
}

// writeEndDocument() ends with a newline twiml.cpp never wrote; dropping it
// keeps the documents byte-identical for ordinary values.
QByteArray withoutFinalNewline(QByteArray xml)
{
    if (xml.endsWith('\n'))
        xml.chop(1);
    return xml;
}

} // namespace

QString withoutXmlForbiddenChars(QStringView text)
{
    QString out;
    out.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text.at(i).unicode();
        if (QChar::isHighSurrogate(c)) {
            if (i + 1 < text.size() && QChar::isLowSurrogate(text.at(i + 1).unicode())) {
                out += text.at(i);
                out += text.at(++i);
            }
            continue;
        }
        if (QChar::isLowSurrogate(c) || !allowedInXml(c))
            continue;
        out += QChar(c);
    }
    return out;
}

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

// QXmlStreamWriter escapes markup and writes TAB/LF/CR in attributes as
// character references (so they survive attribute normalisation), but passes
// forbidden characters through; hence the filter on every value.
QByteArray connectStream(const QString &streamUrl, const QList<QPair<QString, QString>> &parameters)
{
    QByteArray xml;
    QXmlStreamWriter writer(&xml);
    writer.writeStartDocument();
    writer.writeStartElement(QStringLiteral("Response"));
    writer.writeStartElement(QStringLiteral("Connect"));
    writer.writeStartElement(QStringLiteral("Stream"));
    writer.writeAttribute(QStringLiteral("url"), withoutXmlForbiddenChars(streamUrl));
    for (const auto &[name, value] : parameters) {
        writer.writeEmptyElement(QStringLiteral("Parameter"));
        writer.writeAttribute(QStringLiteral("name"), withoutXmlForbiddenChars(name));
        writer.writeAttribute(QStringLiteral("value"), withoutXmlForbiddenChars(value));
    }
    writer.writeEndDocument();
    return withoutFinalNewline(xml);
}

QByteArray sayAndHangUp(const QString &text)
{
    QByteArray xml;
    QXmlStreamWriter writer(&xml);
    writer.writeStartDocument();
    writer.writeStartElement(QStringLiteral("Response"));
    writer.writeTextElement(QStringLiteral("Say"), withoutXmlForbiddenChars(text));
    writer.writeEmptyElement(QStringLiteral("Hangup"));
    writer.writeEndDocument();
    return withoutFinalNewline(xml);
}

} // namespace apex::twiml
