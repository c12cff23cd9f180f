#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace apex {

// One dispatched Server-Sent Event. Fields stay raw bytes: the payload is JSON
// for every server we talk to, and QJsonDocument reads UTF-8 bytes directly, so
// decoding to QString first would only cost a copy.
struct SseEvent
{
    QByteArray data;  // "data" lines joined with '\n', no trailing newline
    QByteArray event; // "event" field; empty means the default type "message"
    QByteArray id;    // last event id seen in the stream so far (sticky, per the spec)

    bool isDone() const { return data == "[DONE]"; } // OpenAI-style end marker
    bool operator==(const SseEvent &other) const = default;
};

// Incremental, byte-exact parser for text/event-stream (WHATWG HTML, "Server-sent
// events"). Reads may split the stream anywhere, inside a UTF-8 sequence or
// between '\r' and '\n'; the events come out the same. Lines end in "\n", "\r\n"
// or "\r"; lines starting with ':' are comments; "data:" takes at most one space
// after the colon. Not thread-safe: one parser per stream.
//
// Departure from the spec, on purpose: at end of stream finish() dispatches a
// pending event (and an unterminated last line) instead of dropping it, because
// llama.cpp may end with "data: [DONE]" and no blank line.
class SseParser
{
public:
    static constexpr qsizetype kDefaultMaxBytes = 1024 * 1024;

    // maxBytes bounds both a single line and one event's joined data: a server
    // that never sends a newline must not grow our memory without limit.
    explicit SseParser(qsizetype maxBytes = kDefaultMaxBytes);

    QList<SseEvent> feed(QByteArrayView bytes);
    // End of stream: flushes the unterminated last line and the pending event.
    QList<SseEvent> finish();
    void reset();

    // After an error every later feed() returns nothing until reset().
    bool hasError() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }

    qint64 retryMs() const { return m_retryMs; } // last "retry:" field, -1 if none

private:
    void processLine(QByteArrayView line, QList<SseEvent> &out);
    void dispatch(QList<SseEvent> &out);
    void fail(const QString &reason);

    qsizetype m_maxBytes;
    QByteArray m_line;      // current, unterminated line
    QByteArray m_data;      // data buffer of the event being built
    QByteArray m_eventType;
    QByteArray m_lastId;
    bool m_hasData = false; // a "data" field was seen, even an empty one
    bool m_skipLf = false;  // the previous chunk ended in '\r': a leading '\n' belongs to it
    bool m_atStreamStart = true; // a UTF-8 BOM may still need stripping
    qint64 m_retryMs = -1;
    QString m_error;
};

} // namespace apex
