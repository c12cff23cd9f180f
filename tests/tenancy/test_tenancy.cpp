#include "tenancy/engineconfig.h"
#include "tenancy/tenantregistry.h"

#include <QFile>
#include <QTemporaryDir>
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
        QTest::newRow("webhook path") << QByteArray("{\"whatsapp\":{\"webhookPath\":\"waha\"},\"tenants\":[{\"id\":\"a\"}]}")
                                      << QStringLiteral("whatsapp.webhookPath");
        QTest::newRow("whatsapp limit") << QByteArray("{\"whatsapp\":{\"maxMessageChars\":5},\"tenants\":[{\"id\":\"a\"}]}")
                                        << QStringLiteral("whatsapp.maxMessageChars");
        QTest::newRow("barge-in speech") << QByteArray("{\"tenants\":[{\"id\":\"a\",\"bargeIn\":{\"minSpeechMs\":-5}}]}")
                                         << QStringLiteral("bargeIn.minSpeechMs");
        QTest::newRow("preemptive stable") << QByteArray("{\"tenants\":[{\"id\":\"a\",\"preemptiveReply\":{\"stableMs\":0}}]}")
                                           << QStringLiteral("preemptiveReply.stableMs");
    }

    void preemptiveReplyFromTheTenant()
    {
        const QByteArray json = R"({"tenants":[{"id":"a","preemptiveReply":{"enabled":false,"stableMs":200}},{"id":"b"}]})";
        ConfigError error;
        const auto config = EngineConfigLoader::parse(json, &error);
        QVERIFY2(config, qPrintable(error.message));
        QVERIFY(!config->tenants.at(0).preemptiveReply.enabled);
        QCOMPARE(config->tenants.at(0).preemptiveReply.stableMs, 200);
        QVERIFY(config->tenants.at(1).preemptiveReply.enabled); // on by default
        QCOMPARE(config->tenants.at(1).preemptiveReply.stableMs, 120);
    }

    void bargeInLexiconFromTheTenant()
    {
        const QByteArray json = R"({"tenants":[{"id":"a","language":"hi","bargeIn":{"backchannels":["haan","जी"],
                                    "maxBackchannelWords":2,"minSpeechMs":450}},{"id":"b"}]})";
        ConfigError error;
        const auto config = EngineConfigLoader::parse(json, &error);
        QVERIFY2(config, qPrintable(error.message));
        const Tenant &a = config->tenants.at(0);
        QCOMPARE(a.bargeIn.backchannels, QStringList({QStringLiteral("haan"), QStringLiteral("जी")}));
        QVERIFY(!a.bargeIn.stopWords); // not given: the language's defaults
        QCOMPARE(a.bargeIn.maxBackchannelWords, 2);
        QCOMPARE(a.bargeIn.minSpeechMs, 450);
        const Tenant &b = config->tenants.at(1);
        QVERIFY(!b.bargeIn.backchannels);
        QCOMPARE(b.bargeIn.maxBackchannelWords, 3);
        QCOMPARE(b.bargeIn.minSpeechMs, 600);
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

    void providersFollowKeysAndPins()
    {
        ProviderConfig none;
        Tenant t;
        t.id = QStringLiteral("t");
        auto choice = chooseProviders(none, t);
        QCOMPARE(choice.stt, QStringLiteral("pocketsphinx"));
        QCOMPARE(choice.llm, QStringLiteral("faq"));
        QCOMPARE(choice.tts, QStringLiteral("embedded"));

        ProviderConfig cloud;
        cloud.deepgramApiKey = QStringLiteral("dg-key");
        cloud.llmApiKey = QStringLiteral("gsk_key");
        cloud.azureSpeechKey = QStringLiteral("az-key");
        cloud.azureSpeechRegion = QStringLiteral("centralindia");
        choice = chooseProviders(cloud, t);
        QCOMPARE(choice.stt, QStringLiteral("deepgram"));
        QCOMPARE(choice.llm, QStringLiteral("groq"));
        QCOMPARE(choice.tts, QStringLiteral("azure"));
        QCOMPARE(cloud.azureUrl(), QStringLiteral("https://centralindia.tts.speech.microsoft.com/cognitiveservices/v1"));

        t.llmProvider = QStringLiteral("faq"); // a tenant may pin the embedded one
        QCOMPARE(chooseProviders(cloud, t).llm, QStringLiteral("faq"));
        cloud.azureSpeechRegion.clear(); // a key without a region or URL is not configured
        QCOMPARE(chooseProviders(cloud, t).tts, QStringLiteral("embedded"));
    }

    void secretsAreMasked()
    {
        QCOMPARE(maskSecret(QString()), QStringLiteral("(not set)"));
        QCOMPARE(maskSecret(QStringLiteral("gsk_abcdefghijklmnop1234")), QStringLiteral("gsk_…1234"));
        QVERIFY(!maskSecret(QStringLiteral("short")).contains(QStringLiteral("short")));
        QCOMPARE(maskUrlPassword(QStringLiteral("redis://:hunter2@127.0.0.1:6379/0")), QStringLiteral("redis://:…@127.0.0.1:6379/0"));
        QCOMPARE(maskUrlPassword(QStringLiteral("redis://:pa/ss#x@y@127.0.0.1:6379")), QStringLiteral("redis://:…@127.0.0.1:6379"));
        QCOMPARE(maskUrlPassword(QStringLiteral("redis://app:s3cret@127.0.0.1")), QStringLiteral("redis://app:…@127.0.0.1"));
        QCOMPARE(maskUrlPassword(QStringLiteral("redis://127.0.0.1:6379")), QStringLiteral("redis://127.0.0.1:6379"));

        EngineConfig config;
        Tenant t;
        t.id = QStringLiteral("demo");
        config.tenants << t;
        config.providers.llmApiKey = QStringLiteral("gsk_supersecretvalue9876");
        config.providers.redisUrl = QStringLiteral("redis://:hunter2@127.0.0.1:6379/0");
        const QString described = describeConfig(config);
        QVERIFY(!described.contains(QStringLiteral("supersecret")));
        QVERIFY(!described.contains(QStringLiteral("hunter2")));
        QVERIFY(described.contains(QStringLiteral("llm groq")));
        QVERIFY(described.contains(QStringLiteral("whatsapp:    (off")));

        config.providers.wahaUrl = QStringLiteral("http://waha:3000");
        config.providers.wahaApiKey = QStringLiteral("waha_apikeysecretvalue4321");
        config.providers.wahaHmacKey = QStringLiteral("hmackeysecretvalue8765");
        const QString withWaha = describeConfig(config);
        QVERIFY(!withWaha.contains(QStringLiteral("apikeysecret")));
        QVERIFY(!withWaha.contains(QStringLiteral("hmackeysecret")));
        QVERIFY2(withWaha.contains(QStringLiteral("WAHA http://waha:3000 key waha_…4321, webhook /waha/webhook")), qPrintable(withWaha));

        config.history.url = QStringLiteral("postgresql://apex:pgsecretvalue@db:5432/apex");
        const QString withHistory = describeConfig(config);
        QVERIFY(!withHistory.contains(QStringLiteral("pgsecret")));
        QVERIFY2(withHistory.contains(QStringLiteral("history:     postgresql://apex:…@db:5432/apex")), qPrintable(withHistory));
    }

    void historySettingsAreRead()
    {
        ConfigError error;
        const QByteArray json = R"({"history":{"url":"sqlite:///tmp/h.sqlite","queueCapacity":10},)"
                                R"("tenants":[{"id":"a","historyRetentionDays":7},{"id":"b"}]})";
        const auto config = EngineConfigLoader::parse(json, &error);
        QVERIFY2(config, qPrintable(error.message));
        QCOMPARE(config->history.url, QStringLiteral("sqlite:///tmp/h.sqlite"));
        QCOMPARE(config->history.queueCapacity, 10);
        QCOMPARE(config->tenants[0].historyRetentionDays, 7);
        QCOMPARE(config->tenants[1].historyRetentionDays, 90);
        // Absent: a file in the state or data directory, never "off" by surprise.
        const QByteArray plain = R"({"tenants":[{"id":"a"}]})";
        const QByteArray mysql = R"({"history":{"url":"mysql://x"},"tenants":[{"id":"a"}]})";
        const QByteArray noDays = R"({"tenants":[{"id":"a","historyRetentionDays":0}]})";
        const auto defaulted = EngineConfigLoader::parse(plain, &error);
        QVERIFY(defaulted && defaulted->history.url.startsWith(QStringLiteral("sqlite:///")));
        QVERIFY(!EngineConfigLoader::parse(mysql, &error));
        QVERIFY(error.message.contains(QStringLiteral("history.url")));
        QVERIFY(!EngineConfigLoader::parse(noDays, &error));
        QVERIFY(error.message.contains(QStringLiteral("historyRetentionDays")));
    }

    void whatsappSettingsAreRead()
    {
        ConfigError error;
        // One raw string per line: moc loses its way in a raw string that spans lines.
        const QByteArray json = R"({"providers":{"wahaUrl":"http://waha:3000","wahaApiKey":"k","wahaHmacKey":"h"},)"
                                R"("whatsapp":{"webhookPath":"/hooks/waha","maxMessageChars":1000},)"
                                R"("tenants":[{"id":"a","whatsappSession":"default","whatsappMediaReply":"Text only, please."}]})";
        const auto config = EngineConfigLoader::parse(json, &error);
        QVERIFY2(config, qPrintable(error.message));
        QVERIFY(config->providers.hasWaha());
        QCOMPARE(config->providers.wahaHmacKey, QStringLiteral("h"));
        QCOMPARE(config->whatsapp.webhookPath, QStringLiteral("/hooks/waha"));
        QCOMPARE(config->whatsapp.maxMessageChars, 1000);
        QCOMPARE(config->tenants.first().whatsappSession, QStringLiteral("default"));
        QCOMPARE(config->tenants.first().whatsappMediaReply, QStringLiteral("Text only, please."));
    }

    void aConfigFileWithKeysMustBePrivate()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("apex.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"providers":{"llmApiKey":"gsk_0123456789abcdef"},"tenants":[{"id":"a"}]})");
        file.close();
        QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadOther));
        ConfigError error;
        QVERIFY(!EngineConfigLoader::loadFile(path, &error));
        QVERIFY2(error.message.contains(QStringLiteral("chmod 600")), qPrintable(error.message));
        QVERIFY(!error.message.contains(QStringLiteral("0123456789")));
        QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        const auto config = EngineConfigLoader::loadFile(path, &error);
        QVERIFY2(config, qPrintable(error.message));
        QCOMPARE(config->providers.llmApiKey, QStringLiteral("gsk_0123456789abcdef"));
    }

    void badProviderPinIsRejected()
    {
        ConfigError error;
        QVERIFY(!EngineConfigLoader::parse(R"({"tenants":[{"id":"a","llm":"gpt-9"}]})", &error));
        QVERIFY(error.message.contains(QStringLiteral("llm")));
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
