// The config side of the hostile-network work: the `limits` object, the Twilio
// and operator tokens (read, kept out of --check-config, counted as secrets)
// and the warnings --check-config prints.

#include "http/securitycheck.h"
#include "tenancy/engineconfig.h"
#include "tenancy/providerconfig.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace apex;

namespace {

QByteArray configWith(const QJsonObject &extra)
{
    QJsonObject root{{QStringLiteral("tenants"), QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("demo")}}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        root.insert(it.key(), it.value());
    return QJsonDocument(root).toJson();
}

} // namespace

class TestNetworkConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void limits_data()
    {
        QTest::addColumn<QJsonObject>("limits");
        QTest::addColumn<bool>("valid");
        QTest::newRow("absent: defaults") << QJsonObject{} << true;
        QTest::newRow("short timeouts") << QJsonObject{{"streamStartTimeoutMs", 300}, {"streamMediaTimeoutMs", 400}} << true;
        QTest::newRow("zero") << QJsonObject{{"maxBodyBytes", 0}} << false;
        QTest::newRow("negative") << QJsonObject{{"maxConnections", -5}} << false;
        QTest::newRow("fraction") << QJsonObject{{"maxConnections", 1.5}} << false;
        QTest::newRow("string") << QJsonObject{{"maxConnections", "100"}} << false;
        QTest::newRow("misspelt") << QJsonObject{{"maxBodyByte", 100}} << false;
        QTest::newRow("line above head") << QJsonObject{{"maxRequestLineBytes", 9000}, {"maxHeaderBytes", 8000}} << false;
    }

    void limits()
    {
        QFETCH(QJsonObject, limits);
        QFETCH(bool, valid);
        ConfigError error;
        const auto config = EngineConfigLoader::parse(configWith({{QStringLiteral("limits"), limits}}), &error);
        QCOMPARE(config.has_value(), valid);
        if (!valid) {
            QVERIFY2(error.message.contains(QLatin1String("limits.")), qPrintable(error.message));
            return;
        }
        const NetworkLimits defaults;
        QCOMPARE(config->limits.streamStartTimeoutMs, limits.value(QStringLiteral("streamStartTimeoutMs")).toInt(defaults.streamStartTimeoutMs));
        QCOMPARE(config->limits.streamMediaTimeoutMs, limits.value(QStringLiteral("streamMediaTimeoutMs")).toInt(defaults.streamMediaTimeoutMs));
        QCOMPARE(config->limits.maxBodyBytes, 64 * 1024);
    }

    void tokensAreReadAndMasked()
    {
        ConfigError error;
        auto config = EngineConfigLoader::parse(
            configWith({{QStringLiteral("operatorToken"), QStringLiteral("operator-0123456789")},
                        {QStringLiteral("providers"), QJsonObject{{QStringLiteral("twilioAuthToken"), QStringLiteral("twilio-abcdefghij")}}}}),
            &error);
        QVERIFY2(config, qPrintable(error.message));
        QCOMPARE(config->operatorToken, QStringLiteral("operator-0123456789"));
        QCOMPARE(config->providers.twilioAuthToken, QStringLiteral("twilio-abcdefghij"));
        const QString described = describeConfig(*config);
        QVERIFY(!described.contains(QLatin1String("operator-0123456789")));
        QVERIFY(!described.contains(QLatin1String("twilio-abcdefghij")));
        QVERIFY(described.contains(QLatin1String("webhook signatures and stream tokens checked")));
    }

    void environmentWins()
    {
        qputenv("TWILIO_AUTH_TOKEN", "from-the-environment");
        qputenv("APEX_OPERATOR_TOKEN", "operator-from-env");
        ConfigError error;
        auto config = EngineConfigLoader::parse(configWith({}), &error);
        QVERIFY(config);
        EngineConfigLoader::applyEnvironment(*config);
        qunsetenv("TWILIO_AUTH_TOKEN");
        qunsetenv("APEX_OPERATOR_TOKEN");
        QCOMPARE(config->providers.twilioAuthToken, QStringLiteral("from-the-environment"));
        QCOMPARE(config->operatorToken, QStringLiteral("operator-from-env"));
    }

    void checkConfigWarnings_data()
    {
        QTest::addColumn<QString>("listen");
        QTest::addColumn<QString>("operatorToken");
        QTest::addColumn<QString>("twilioToken");
        QTest::addColumn<QString>("publicUrl");
        QTest::addColumn<QStringList>("expected");
        const QString op = QStringLiteral("beyond loopback, without an operator token");
        const QString tw = QStringLiteral("no Twilio auth token");
        const QString https = QStringLiteral("is not https");
        const QString noPublic = QStringLiteral("no publicUrl while listening beyond loopback");
        QTest::newRow("loopback, all set") << "127.0.0.1:8080" << "op" << "tw" << "" << QStringList{};
        QTest::newRow("loopback, no Twilio token") << "127.0.0.1:8080" << "" << "" << "" << QStringList{tw};
        QTest::newRow("any, nothing set") << "0.0.0.0:8080" << "" << "" << "" << QStringList{op, tw, noPublic};
        QTest::newRow("any, tokens, https") << ":8080" << "op" << "tw" << "https://voice.example" << QStringList{};
        QTest::newRow("any, http public url") << "0.0.0.0:8080" << "op" << "tw" << "http://voice.example" << QStringList{https};
        QTest::newRow("ipv6 loopback") << "[::1]:8080" << "" << "tw" << "" << QStringList{};
    }

    void checkConfigWarnings()
    {
        QFETCH(QString, listen);
        QFETCH(QString, operatorToken);
        QFETCH(QString, twilioToken);
        QFETCH(QString, publicUrl);
        QFETCH(QStringList, expected);
        EngineConfig config;
        config.listen = listen;
        config.operatorToken = operatorToken;
        config.providers.twilioAuthToken = twilioToken;
        config.publicUrl = publicUrl;
        const QStringList warnings = securityWarnings(config);
        QCOMPARE(warnings.size(), expected.size());
        for (const QString &needle : expected) {
            QVERIFY2(std::any_of(warnings.cbegin(), warnings.cend(), [&](const QString &w) { return w.contains(needle); }),
                     qPrintable(warnings.join(QLatin1Char('\n'))));
        }
    }
};

QTEST_GUILESS_MAIN(TestNetworkConfig)
#include "tst_networkconfig.moc"
