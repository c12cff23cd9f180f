#include "tenancy/engineconfig.h"
#include "tenancy/tenantregistry.h"

#include <QTest>

using namespace apex;

class TestTenancy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void shippedConfigHasTheDemoTenant()
    {
        ConfigError error;
        const auto config = EngineConfigLoader::loadFile(QStringLiteral(APEX_RESOURCES_DIR "/config/apex.json"), &error);
        QVERIFY2(config, qPrintable(error.message));
        QCOMPARE(config->defaultTenantId, QStringLiteral("demo"));
        const Tenant &demo = config->tenants.first();
        QCOMPARE(demo.name, QStringLiteral("Sunrise Dental Clinic"));
        QCOMPARE(demo.language, QStringLiteral("en"));
        QCOMPARE(demo.endpointingMs, 250);
        QVERIFY(!demo.greeting.isEmpty());
        QVERIFY(!demo.systemPrompt.isEmpty());
        QVERIFY(demo.faq.size() >= 10);
        bool hasHours = false;
        for (const auto &entry : demo.faq)
            hasHours = hasHours
                       || entry.answer == QStringLiteral("We are open Monday to Saturday, from nine in the morning to six in the evening.");
        QVERIFY(hasHours);
    }

    void rejectsBadConfigsWithAReason_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("{tenants:") << QStringLiteral("invalid JSON");
        QTest::newRow("array") << QByteArray("[]") << QStringLiteral("top level");
        QTest::newRow("no tenants") << QByteArray("{\"tenants\":[]}") << QStringLiteral("no tenants");
        QTest::newRow("no id") << QByteArray("{\"tenants\":[{\"name\":\"x\"}]}") << QStringLiteral("no \"id\"");
        QTest::newRow("bad id") << QByteArray("{\"tenants\":[{\"id\":\"a b/../c\"}]}") << QStringLiteral("must be");
        QTest::newRow("duplicate") << QByteArray("{\"tenants\":[{\"id\":\"a\"},{\"id\":\"a\"}]}") << QStringLiteral("twice");
        QTest::newRow("unknown default") << QByteArray("{\"defaultTenant\":\"b\",\"tenants\":[{\"id\":\"a\"}]}")
                                         << QStringLiteral("not among");
        QTest::newRow("faq without answer") << QByteArray("{\"tenants\":[{\"id\":\"a\",\"faq\":[{\"question\":\"q\"}]}]}")
                                            << QStringLiteral("question and an answer");
        QTest::newRow("endpointing") << QByteArray("{\"tenants\":[{\"id\":\"a\",\"endpointingMs\":1}]}")
                                     << QStringLiteral("endpointingMs");
    }
    void rejectsBadConfigsWithAReason()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        ConfigError error;
        QVERIFY(!EngineConfigLoader::parse(json, &error));
        QVERIFY2(error.message.contains(expected), qPrintable(error.message));
    }

    void missingFileIsAClearError()
    {
        ConfigError error;
        QVERIFY(!EngineConfigLoader::loadFile(QStringLiteral("/nonexistent/apex.json"), &error));
        QVERIFY(error.message.contains(QStringLiteral("/nonexistent/apex.json")));
    }

    void registryResolvesCallsToTenants()
    {
        Tenant a;
        a.id = QStringLiteral("a");
        a.numbers = {QStringLiteral("+1 (415) 555-0100")};
        Tenant b;
        b.id = QStringLiteral("b");
        TenantRegistry registry({a, b}, QStringLiteral("b"));
        QCOMPARE(registry.resolve(QStringLiteral("a"), QString())->id, QStringLiteral("a"));
        QCOMPARE(registry.resolve(QString(), QStringLiteral("+14155550100"))->id, QStringLiteral("a"));
        QCOMPARE(registry.resolve(QString(), QStringLiteral("+19999999999"))->id, QStringLiteral("b"));
        QCOMPARE(registry.resolve(QString(), QString())->id, QStringLiteral("b"));
        QVERIFY(!registry.resolve(QStringLiteral("nobody"), QStringLiteral("+14155550100")));
    }

    void aCallKeepsItsTenantSnapshotWhileTheConsoleEdits()
    {
        Tenant a;
        a.id = QStringLiteral("a");
        a.greeting = QStringLiteral("old");
        TenantRegistry registry({a}, QString());
        const TenantPtr snapshot = registry.find(QStringLiteral("a"));
        a.greeting = QStringLiteral("new");
        registry.upsert(a);
        QCOMPARE(snapshot->greeting, QStringLiteral("old"));
        QCOMPARE(registry.find(QStringLiteral("a"))->greeting, QStringLiteral("new"));
    }
};

QTEST_GUILESS_MAIN(TestTenancy)
#include "test_tenancy.moc"
