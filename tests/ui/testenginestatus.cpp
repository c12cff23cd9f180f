// The engine status dock: /stats parsing fed by hand, the null-host console,
// and one real pre-warm through an embedded engine.

#include "ui/enginestatusview.h"
#include "ui/mainwindow.h"

#include "host/callmonitor.h"
#include "host/enginehost.h"

#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QJsonDocument>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTest>

using namespace apex;

namespace {

// Shaped like a real GET /stats, with Redis down and two tenants: one with
// lookups split between memory and Redis, one not called yet.
const char kStatsSample[] = R"({
  "liveCalls": 2, "callsEnded": 3, "framesSent": 1200, "lateFrames": 1,
  "cpuSeconds": 2.14, "residentBytes": 80000000, "redis": "disconnected",
  "ttsCache": {
    "memory": {"usedBytes": 526920, "budgetBytes": 67108864, "entries": 21, "evictions": 0},
    "redis": {"configured": true, "connected": false, "writes": 7, "writeErrors": 1, "writesSkipped": 2},
    "tenants": {
      "acme": {"memoryHits": 30, "redisHits": 10, "misses": 10, "hitRatio": 0.8},
      "demo": {"memoryHits": 0, "redisHits": 0, "misses": 0, "hitRatio": 0}
    }
  }
})";

QJsonObject statsSample()
{
    return QJsonDocument::fromJson(kStatsSample).object();
}

QString labelText(const QWidget &view, const char *name)
{
    const auto *label = view.findChild<QLabel *>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<no %1>").arg(QLatin1String(name));
}

QString cell(const QTableWidget *table, int row, int column)
{
    const QTableWidgetItem *item = table->item(row, column);
    return item ? item->text() : QString();
}

} // namespace

class TestEngineStatus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void appliesStatsSample()
    {
        EngineStatusView view(nullptr);
        view.apply(statsSample());

        QCOMPARE(labelText(view, "liveCallsLabel"), QStringLiteral("2"));
        QCOMPARE(labelText(view, "framesLabel"), QStringLiteral("1200 / 1"));
        QCOMPARE(labelText(view, "cpuLabel"), QStringLiteral("2.1 s"));
        QCOMPARE(labelText(view, "residentLabel"), QStringLiteral("80.0 MB"));
        QVERIFY(labelText(view, "cacheMemoryLabel").contains(QStringLiteral("0.5 of 67.1 MB, 21 entries")));

        auto *redis = view.findChild<QLabel *>(QStringLiteral("redisStateLabel"));
        QVERIFY(redis);
        QCOMPARE(redis->text(), QStringLiteral("disconnected"));
        QCOMPARE(redis->palette().color(QPalette::WindowText), QColor(0xc6, 0x28, 0x28));
        QVERIFY(redis->toolTip().contains(QStringLiteral("2 skipped")));

        auto *table = view.findChild<QTableWidget *>(QStringLiteral("cacheTable"));
        QVERIFY(table);
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(cell(table, 0, 0), QStringLiteral("acme"));
        QCOMPARE(cell(table, 0, 1), QStringLiteral("40"));
        QCOMPARE(cell(table, 0, 2), QStringLiteral("10"));
        QCOMPARE(cell(table, 0, 3), QStringLiteral("80.0 %"));
        QCOMPARE(cell(table, 0, 4), QStringLiteral("30 / 10"));
        QCOMPARE(cell(table, 1, 0), QStringLiteral("demo"));
        QCOMPARE(cell(table, 1, 3), QStringLiteral("–")); // no lookups: no ratio, rather than 0 %

        // A later snapshot with Redis back and one tenant gone updates in place.
        QJsonObject next = statsSample();
        next.insert(QStringLiteral("redis"), QStringLiteral("connected"));
        QJsonObject cache = next.value(QStringLiteral("ttsCache")).toObject();
        QJsonObject tenants = cache.value(QStringLiteral("tenants")).toObject();
        tenants.remove(QStringLiteral("demo"));
        cache.insert(QStringLiteral("tenants"), tenants);
        next.insert(QStringLiteral("ttsCache"), cache);
        view.apply(next);
        QCOMPARE(redis->text(), QStringLiteral("connected"));
        QCOMPARE(table->rowCount(), 1);

        // An engine that is not running answers with an empty object.
        view.apply(QJsonObject());
        QCOMPARE(labelText(view, "liveCallsLabel"), QStringLiteral("–"));
        QCOMPARE(table->rowCount(), 0);
    }

    void nullHostDisablesControls()
    {
        EngineStatusView view(nullptr);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QCOMPARE(labelText(view, "noEngineLabel"), QStringLiteral("No engine attached"));
        QVERIFY(!view.findChild<QPushButton *>(QStringLiteral("prewarmButton"))->isEnabled());
        QVERIFY(!view.findChild<QPushButton *>(QStringLiteral("prewarmCancelButton"))->isEnabled());
        QVERIFY(!view.findChild<QComboBox *>(QStringLiteral("prewarmTenantCombo"))->isEnabled());
        // Shown without an engine, it has nothing to poll: the figures stay blank.
        QTest::qWait(EngineStatusView::kPollIntervalMs + 200);
        QCOMPARE(labelText(view, "liveCallsLabel"), QStringLiteral("–"));
    }

    void mainWindowDocksTheView()
    {
        CallMonitor monitor;
        MainWindow window(&monitor);
        auto *dock = window.findChild<QDockWidget *>(QStringLiteral("engineStatusDock"));
        QVERIFY(dock);
        QVERIFY(qobject_cast<EngineStatusView *>(dock->widget()));
        QCOMPARE(window.dockWidgetArea(dock), Qt::RightDockWidgetArea);
    }

    void prewarmsThroughRealEngine()
    {
        ConfigError error;
        auto config = EngineConfigLoader::loadFile(QStringLiteral(APEX_RESOURCES_DIR "/config/apex.json"), &error);
        QVERIFY2(config, qPrintable(error.message));
        config->listen = QStringLiteral("127.0.0.1:0");
        config->prewarmAtStart = false; // the button below starts the only run
        EngineHost host(*config);
        QString startError;
        QVERIFY2(host.start(&startError), qPrintable(startError));

        MainWindow window(host.monitor(), &host);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto *view = window.findChild<EngineStatusView *>();
        QVERIFY(view);

        // Polling while shown: the live figures and the tenant's cache row arrive.
        QTRY_COMPARE_WITH_TIMEOUT(labelText(*view, "liveCallsLabel"), QStringLiteral("0"), 10'000);
        QVERIFY(labelText(*view, "redisStateLabel").startsWith(QStringLiteral("off")));
        // No tenant has had a cache lookup yet, so the engine lists none.
        auto *table = view->findChild<QTableWidget *>(QStringLiteral("cacheTable"));
        QCOMPARE(table->rowCount(), 0);

        auto *combo = view->findChild<QComboBox *>(QStringLiteral("prewarmTenantCombo"));
        auto *button = view->findChild<QPushButton *>(QStringLiteral("prewarmButton"));
        auto *cancel = view->findChild<QPushButton *>(QStringLiteral("prewarmCancelButton"));
        auto *progress = view->findChild<QProgressBar *>(QStringLiteral("prewarmProgress"));
        QVERIFY(combo && button && cancel && progress);
        combo->setCurrentIndex(combo->findData(QStringLiteral("demo")));
        QVERIFY(button->isEnabled());
        QVERIFY(!cancel->isEnabled());

        QTest::mouseClick(button, Qt::LeftButton);
        QVERIFY(!button->isEnabled());
        QVERIFY(cancel->isEnabled());

        // flite on two shared cores, with the pre-warmer's pauses: be generous.
        QTRY_VERIFY_WITH_TIMEOUT(!labelText(*view, "prewarmResultLabel").isEmpty(), 150'000);
        QVERIFY(progress->maximum() > 1);
        QCOMPARE(progress->value(), progress->maximum());
        const QString summary = labelText(*view, "prewarmResultLabel");
        QVERIFY2(summary.startsWith(QStringLiteral("demo: %1 phrases").arg(progress->maximum())), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("0 failed")), qPrintable(summary));
        QVERIFY(button->isEnabled());
        QVERIFY(!cancel->isEnabled());

        // The pre-warm's lookups put the tenant in the cache stats; they are not
        // call lookups, so its hits and misses stay at zero and it has no ratio.
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 1, 10'000);
        QCOMPARE(cell(table, 0, 0), QStringLiteral("demo"));
        QCOMPARE(cell(table, 0, 1), QStringLiteral("0"));
        QCOMPARE(cell(table, 0, 3), QStringLiteral("–"));
        QTRY_VERIFY(!labelText(*view, "cacheMemoryLabel").startsWith(QStringLiteral("Memory: 0.0 of")));

        window.grab().save(QStringLiteral("/tmp/apex-status.png"));
    }
};

int main(int argc, char *argv[])
{
    // As in testconsole.cpp: offscreen under ctest, the real platform when a
    // display is there (xvfb-run in CI).
    if (!qEnvironmentVariableIsEmpty("DISPLAY") && !qEnvironmentVariableIsSet("APEX_TEST_KEEP_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "xcb");
    QApplication app(argc, argv);
    TestEngineStatus test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "testenginestatus.moc"
