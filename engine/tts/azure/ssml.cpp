#include "tts/azure/ssml.h"

namespace apex::ssml {

QString sanitizedText(const QString &text)
{
    QString out;
    out.reserve(text.size());
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = text.at(i);
        const char16_t u = c.unicode();
        if (c.isHighSurrogate()) {
            if (i + 1 < n && text.at(i + 1).isLowSurrogate()) {
                out.append(c);
                out.append(text.at(++i));
            }
            continue; // a lone high surrogate is not a character
        }
        if (c.isLowSurrogate())
            continue;
        if (u == u'\t' || u == u'\n' || u == u'\r') {
            out.append(QLatin1Char(' '));
            continue;
        }
        if (u < 0x20 || u == 0xFFFE || u == 0xFFFF)
            continue;
        out.append(c);
    }
    return out;
}

QString escaped(const QString &text)
{
    QString out;
    out.reserve(text.size() + text.size() / 8);
    for (const QChar c : text) {
        switch (c.unicode()) {
        case u'&': out += QLatin1String("&amp;"); break;
        case u'<': out += QLatin1String("&lt;"); break;
        case u'>': out += QLatin1String("&gt;"); break;
        case u'"': out += QLatin1String("&quot;"); break;
        case u'\'': out += QLatin1String("&apos;"); break;
        default: out += c;
        }
    }
    return out;
}

QByteArray document(const QString &voice, const QString &language, const QString &text)
{
    const QString xml = QStringLiteral("<speak version=\"1.0\" xmlns=\"http://www.w3.org/2001/10/synthesis\" "
                                       "xml:lang=\"%1\"><voice name=\"%2\">%3</voice></speak>")
                            .arg(escaped(sanitizedText(language)), escaped(sanitizedText(voice)),
                                 escaped(sanitizedText(text)));
    return xml.toUtf8();
}

} // namespace apex::ssml
