#pragma once

#include <QJsonObject>
#include <QString>

namespace apex {

// What one peer may cost the box before it is cut off: the config's `limits`
// object. The defaults are safe for a public port; a test shortens the timeouts.
struct NetworkLimits
{
    // A media WebSocket must send `start` this soon after it opens...
    int streamStartTimeoutMs = 5'000;
    // ...and then media at least this often (Twilio sends a frame every 20 ms,
    // silence included, so a gap this long means the peer is not Twilio).
    int streamMediaTimeoutMs = 10'000;
    // From the connection's accept (or the end of its previous request) to a
    // complete request head: slow-loris sockets die here.
    int requestHeaderTimeoutMs = 10'000;
    // From the end of the head to the end of the body.
    int requestBodyTimeoutMs = 10'000;

    // Twilio's voice webhook body is about 1 KB of form fields.
    int maxBodyBytes = 64 * 1024;
    // Request line plus headers.
    int maxHeaderBytes = 16 * 1024;
    int maxHeaderCount = 64;
    int maxRequestLineBytes = 4 * 1024;

    // Open connections of every kind, calls included. New ones beyond it are
    // shed (503) so the calls already up keep their descriptors and CPU. Lowered
    // at start to what the descriptor limit can carry.
    int maxConnections = 2'048;
    // Per remote address. Behind a reverse proxy every connection comes from
    // the proxy: raise it to maxConnections there.
    int maxConnectionsPerAddress = 256;

    // Lines about one remote address's misbehaviour (bad requests, refused
    // streams, timeouts); beyond it they are counted and summarised.
    int logLinesPerSecondPerRemote = 5;

    // Reads the config's `limits` object over the defaults. False with *error
    // for a value out of range (every limit must be at least 1).
    bool read(const QJsonObject &object, QString *error);
};

} // namespace apex
