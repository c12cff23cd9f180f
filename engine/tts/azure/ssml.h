#pragma once

#include <QByteArray>
#include <QString>

// Speech Synthesis Markup for one sentence to one voice (protocols.md §5).
// The text comes from callers and from an LLM, so it is treated as hostile:
// nothing in it may end the <voice> element, open another one, declare an
// entity or make the document unparsable.
namespace apex::ssml {

// The text with every character XML 1.0 forbids removed (C0 controls, lone
// surrogates, U+FFFE/U+FFFF). Tab, LF and CR become spaces: a parser would
// normalise CR away, and a sentence has no use for line structure.
QString sanitizedText(const QString &text);

// & < > " ' as predefined entities; safe in element content and attribute values.
QString escaped(const QString &text);

// <speak version="1.0" xmlns=... xml:lang="{language}"><voice name="{voice}">{text}</voice></speak>
// as UTF-8. All three are sanitised and escaped.
QByteArray document(const QString &voice, const QString &language, const QString &text);

} // namespace apex::ssml
