#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace apex {

// A RESP2 reply copied out of hiredis (whose reply objects die right after the
// callback), binary-safe. `Disconnected` stands for "no reply": the connection
// was down or dropped before the answer came.
struct RedisReply
{
    enum class Type { Nil, String, Status, Integer, Array, Error, Disconnected };
    Type type = Type::Nil;
    QByteArray string; // String, Status and Error text
    long long integer = 0;
    QList<RedisReply> elements;

    bool isError() const { return type == Type::Error || type == Type::Disconnected; }
};

} // namespace apex
