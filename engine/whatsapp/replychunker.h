#pragma once

#include <QString>
#include <QStringList>

namespace apex::waha {

// Cuts a reply into WhatsApp messages of at most maxChars UTF-16 units each:
// at the last sentence end (. ? ! । or a newline) that fits, else at the last
// space, else hard (never inside a surrogate pair). Pieces are trimmed; empty
// text gives no pieces.
QStringList splitForWhatsApp(const QString &text, int maxChars = 4096);

} // namespace apex::waha
