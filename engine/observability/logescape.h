#pragma once

#include <QString>
#include <QStringView>

namespace apex {

// For any value from outside (a From number, a tenant name off the wire, a URL)
// before it goes into a log line: nothing in it can start a new line, move the
// cursor, recolour a terminal or reorder the text around it.
//
// Shown escaped: backslash as \\; CR, LF, TAB as \r \n \t; other C0 controls,
// DEL and C1 controls as \xNN; U+2028/U+2029 (line/paragraph separators), the
// bidi controls U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069, and lone
// surrogates as \u{NNNN}. Values longer than maxChars UTF-16 units are cut
// (never inside a surrogate pair) and end in "…(+N chars)"; a negative maxChars
// keeps everything. Thread-safe.
QString logSafe(QStringView value, qsizetype maxChars = 200);

} // namespace apex
