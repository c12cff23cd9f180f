#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringView>

// TwiML documents the voice webhook answers with (protocols.md §1.1).
namespace apex::twiml {

// Escapes the five XML specials; attribute-safe.
QString xmlEscape(QStringView text);

// <Response><Connect><Stream url=...><Parameter .../>...</Stream></Connect></Response>.
// The url must be wss:// (ws:// for local tests) without a query string: Twilio
// strips queries, so anything the call needs travels as a <Parameter>.
QByteArray connectStream(const QString &streamUrl, const QList<QPair<QString, QString>> &parameters);

// <Response><Say>text</Say><Hangup/></Response>: a spoken refusal.
QByteArray sayAndHangUp(const QString &text);

} // namespace apex::twiml
