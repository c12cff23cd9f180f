#include "whatsapp/replychunker.h"

namespace apex::waha {

namespace {

bool isSentenceEnd(QChar c)
{
    return c == QLatin1Char('.') || c == QLatin1Char('?') || c == QLatin1Char('!') || c == QLatin1Char('\n')
        || c == QChar(0x0964);
}

} // namespace

QStringList splitForWhatsApp(const QString &text, int maxChars)
{
    QStringList pieces;
    QString rest = text.trimmed();
    maxChars = std::max(maxChars, 2);
    while (rest.size() > maxChars) {
        qsizetype cut = -1;
        // A sentence end followed by whitespace (or the limit itself): "3.5" stays whole.
        for (qsizetype i = maxChars - 1; i > 0 && cut < 0; --i) {
            if (isSentenceEnd(rest[i]) && (i + 1 >= rest.size() || rest[i + 1].isSpace() || rest[i] == QLatin1Char('\n')))
                cut = i + 1;
        }
        for (qsizetype i = maxChars; i > 0 && cut < 0; --i) {
            if (rest[i].isSpace())
                cut = i;
        }
        if (cut <= 0) {
            cut = maxChars;
            if (rest[cut - 1].isHighSurrogate())
                --cut;
        }
        const QString piece = rest.left(cut).trimmed();
        if (!piece.isEmpty())
            pieces << piece;
        rest = rest.mid(cut).trimmed();
    }
    if (!rest.isEmpty())
        pieces << rest;
    return pieces;
}

} // namespace apex::waha
