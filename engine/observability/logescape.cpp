#include "observability/logescape.h"

namespace apex {

namespace {

bool needsUnicodeEscape(char16_t c)
{
    return c == 0x061C || c == 0x200E || c == 0x200F || c == 0x2028 || c == 0x2029
        || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

void appendHex(QString &out, char16_t c, int digits)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
        out += QLatin1Char(hex[(c >> shift) & 0xF]);
}

} // namespace

QString logSafe(QStringView value, qsizetype maxChars)
{
    qsizetype keep = value.size();
    if (maxChars >= 0 && keep > maxChars) {
        keep = maxChars;
        // Half a pair would print as an escaped lone surrogate: cut before it.
        if (keep > 0 && QChar::isHighSurrogate(value.at(keep - 1).unicode()))
            --keep;
    }

    QString out;
    out.reserve(keep + 16);
    for (qsizetype i = 0; i < keep; ++i) {
        const char16_t c = value.at(i).unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < keep && QChar::isLowSurrogate(value.at(i + 1).unicode())) {
            out += value.at(i);
            out += value.at(++i);
            continue;
        }
        switch (c) {
        case u'\\': out += QLatin1String("\\\\"); continue;
        case u'\r': out += QLatin1String("\\r"); continue;
        case u'\n': out += QLatin1String("\\n"); continue;
        case u'\t': out += QLatin1String("\\t"); continue;
        default: break;
        }
        if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
            out += QLatin1String("\\x");
            appendHex(out, c, 2);
        } else if (needsUnicodeEscape(c) || QChar::isSurrogate(c)) {
            out += QLatin1String("\\u{");
            appendHex(out, c, 4);
            out += u'}';
        } else {
            out += QChar(c);
        }
    }
    if (keep < value.size())
        out += QStringLiteral("\u2026(+%1 chars)").arg(value.size() - keep);
    return out;
}

} // namespace apex
