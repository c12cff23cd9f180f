#pragma once

#include "store/redisclient.h"

#include <QTest>

#include <memory>
#include <optional>

namespace apex::test {

inline std::unique_ptr<RedisClient> makeClient(const QString &url, int reconnectMaxMs = 400)
{
    RedisClient::Settings settings;
    settings.url = url;
    settings.reconnectInitialMs = 20;
    settings.reconnectMaxMs = reconnectMaxMs;
    settings.connectTimeoutMs = 2000;
    auto client = std::make_unique<RedisClient>(settings);
    client->start();
    return client;
}

// Sends one command and waits for its answer; nullopt if none came in time.
inline std::optional<RedisReply> call(RedisClient &client, const QList<QByteArray> &argv, int timeoutMs = 5000)
{
    // Shared: an answer arriving after a timeout must not write to a dead frame.
    auto result = std::make_shared<std::optional<RedisReply>>();
    client.command(argv, [result](const RedisReply &reply) { *result = reply; });
    (void)QTest::qWaitFor([&] { return result->has_value(); }, timeoutMs);
    return *result;
}

} // namespace apex::test
