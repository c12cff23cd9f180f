#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringView>

// TwiML documents the voice webhook answers with (protocols.md §1.1), written by
// QXmlStreamWriter. Meant to supersede twiml.h/twiml.cpp: the declarations below
// repeat theirs exactly, so twimlwriter.cpp replaces twiml.cpp in the telephony
// library with no caller changed. Do not link both .cpp files: they define the
// same functions.
namespace apex::twiml {

// text without the characters XML 1.0 cannot carry at all (C0 controls other
// than TAB/LF/CR, U+FFFE, U+FFFF, surrogates not in a pair). Escaping cannot
// save those: no conforming parser accepts them even as &#1;.
QString withoutXmlForbiddenChars(QStringView text);

// Escapes the five XML specials; attribute-safe. Kept for callers of the old
// twiml.h; the documents below no longer use it.
QString xmlEscape(QStringView text);

// <Response><Connect><Stream url=...><Parameter .../>...</Stream></Connect></Response>.
// The url must be wss:// (ws:// for local tests) without a query string: Twilio
// strips queries, so anything the call needs travels as a <Parameter>. Every
// value is filtered by withoutXmlForbiddenChars(), so a hostile From cannot
// make the document invalid.
QByteArray connectStream(const QString &streamUrl, const QList<QPair<QString, QString>> &parameters);

// <Response><Say>text</Say><Hangup/></Response>: a spoken refusal.
QByteArray sayAndHangUp(const QString &text);

} // namespace apex::twiml
