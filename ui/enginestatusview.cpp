#include "ui/enginestatusview.h"

#include "host/enginehost.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonValue>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace apex {

namespace {

// A fetch unanswered for this long is taken as lost (the engine was stopped
// under it), so polling resumes instead of waiting for it forever.
constexpr qint64 kFetchGivenUpMs = 5'000;

enum CacheColumn { TenantColumn, HitsColumn, MissesColumn, HitRatioColumn, SplitColumn, CacheColumnCount };

const QString kNoValue = QStringLiteral("–");

QString count(const QJsonValue &value)
{
    return value.isDouble() ? QString::number(qint64(value.toDouble())) : kNoValue;
}

QString megabytes(double bytes)
{
    return QString::number(bytes / 1e6, 'f', 1);
}

// The engine reports Redis as a stable code; the words and the colour are ours.
struct RedisLook
{
    QString text;
    QColor colour;
};

RedisLook redisLook(const QString &state)
{
    if (state == QLatin1String("connected"))
        return {EngineStatusView::tr("connected"), QColor(0x2e, 0x7d, 0x32)};
    if (state == QLatin1String("connecting"))
        return {EngineStatusView::tr("connecting…"), QColor(0xb2, 0x6a, 0x00)};
    if (state == QLatin1String("disconnected"))
        return {EngineStatusView::tr("disconnected"), QColor(0xc6, 0x28, 0x28)};
    if (state == QLatin1String("off"))
        return {EngineStatusView::tr("off (not configured)"), QColor(0x75, 0x75, 0x75)};
    return {state.isEmpty() ? kNoValue : state, QColor(0x75, 0x75, 0x75)};
}

void setCell(QTableWidget *table, int row, int column, const QString &text)
{
    QTableWidgetItem *item = table->item(row, column);
    if (!item) {
        item = new QTableWidgetItem;
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
        if (column != TenantColumn)
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        table->setItem(row, column, item);
    }
    item->setText(text);
}

QString prewarmSummary(const QString &tenantId, const QJsonObject &stats)
{
    if (stats.contains(QLatin1String("error")))
        return EngineStatusView::tr("%1: pre-warm failed (%2)").arg(tenantId, stats.value(QLatin1String("error")).toString());
    const int total = stats.value(QLatin1String("total")).toInt();
    const int cached = stats.value(QLatin1String("alreadyCached")).toInt();
    const int synthesized = stats.value(QLatin1String("synthesized")).toInt();
    const int failed = stats.value(QLatin1String("failed")).toInt();
    const QString seconds = QString::number(stats.value(QLatin1String("elapsedMs")).toDouble() / 1e3, 'f', 1);
    if (stats.value(QLatin1String("cancelled")).toBool())
        return EngineStatusView::tr("%1: cancelled after %2 of %3 phrases (%4 s)")
            .arg(tenantId)
            .arg(cached + synthesized + failed)
            .arg(total)
            .arg(seconds);
    return EngineStatusView::tr("%1: %2 phrases in %3 s: %4 already cached, %5 synthesised (%6 MB), %7 failed")
        .arg(tenantId)
        .arg(total)
        .arg(seconds)
        .arg(cached)
        .arg(synthesized)
        .arg(megabytes(stats.value(QLatin1String("bytesSynthesized")).toDouble()))
        .arg(failed);
}

} // namespace

EngineStatusView::EngineStatusView(EngineHost *host, QWidget *parent)
    : QWidget(parent)
    , m_host(host)
    , m_liveCallsLabel(new QLabel(kNoValue))
    , m_framesLabel(new QLabel(kNoValue))
    , m_cpuLabel(new QLabel(kNoValue))
    , m_residentLabel(new QLabel(kNoValue))
    , m_redisStateLabel(new QLabel(kNoValue))
    , m_cacheMemoryLabel(new QLabel(kNoValue))
    , m_cacheTable(new QTableWidget(0, CacheColumnCount))
    , m_tenantCombo(new QComboBox)
    , m_prewarmButton(new QPushButton(tr("Pre-warm")))
    , m_cancelButton(new QPushButton(tr("Cancel")))
    , m_prewarmProgress(new QProgressBar)
    , m_prewarmResultLabel(new QLabel)
{
    // MainWindow names the dock after the view: "engineStatusDock".
    setObjectName(QStringLiteral("engineStatus"));
    m_liveCallsLabel->setObjectName(QStringLiteral("liveCallsLabel"));
    m_framesLabel->setObjectName(QStringLiteral("framesLabel"));
    m_cpuLabel->setObjectName(QStringLiteral("cpuLabel"));
    m_residentLabel->setObjectName(QStringLiteral("residentLabel"));
    m_redisStateLabel->setObjectName(QStringLiteral("redisStateLabel"));
    m_cacheMemoryLabel->setObjectName(QStringLiteral("cacheMemoryLabel"));
    m_cacheTable->setObjectName(QStringLiteral("cacheTable"));
    m_tenantCombo->setObjectName(QStringLiteral("prewarmTenantCombo"));
    m_prewarmButton->setObjectName(QStringLiteral("prewarmButton"));
    m_cancelButton->setObjectName(QStringLiteral("prewarmCancelButton"));
    m_prewarmProgress->setObjectName(QStringLiteral("prewarmProgress"));
    m_prewarmResultLabel->setObjectName(QStringLiteral("prewarmResultLabel"));

    auto *layout = new QVBoxLayout(this);
    if (!host) {
        auto *noEngine = new QLabel(tr("No engine attached"));
        noEngine->setObjectName(QStringLiteral("noEngineLabel"));
        layout->addWidget(noEngine);
    }

    auto *engineBox = new QGroupBox(tr("Engine"));
    auto *engineForm = new QFormLayout(engineBox);
    engineForm->addRow(tr("Live calls:"), m_liveCallsLabel);
    engineForm->addRow(tr("Frames sent / late:"), m_framesLabel);
    engineForm->addRow(tr("CPU:"), m_cpuLabel);
    engineForm->addRow(tr("Resident:"), m_residentLabel);
    engineForm->addRow(tr("Redis:"), m_redisStateLabel);
    layout->addWidget(engineBox);

    auto *cacheBox = new QGroupBox(tr("TTS cache"));
    auto *cacheLayout = new QVBoxLayout(cacheBox);
    m_cacheTable->setHorizontalHeaderLabels(
        {tr("Tenant"), tr("Hits"), tr("Misses"), tr("Hit %"), tr("Mem / Redis")});
    m_cacheTable->horizontalHeaderItem(SplitColumn)->setToolTip(tr("Hits served from memory / from Redis"));
    m_cacheTable->verticalHeader()->hide();
    // Figures keep their width; the tenant column takes what the dock leaves.
    m_cacheTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_cacheTable->horizontalHeader()->setSectionResizeMode(TenantColumn, QHeaderView::Stretch);
    m_cacheTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_cacheTable->setSelectionMode(QAbstractItemView::NoSelection);
    m_cacheTable->setFocusPolicy(Qt::NoFocus);
    m_cacheTable->setToolTip(tr("Call lookups only: pre-warming does not count towards the hit ratio"));
    cacheLayout->addWidget(m_cacheMemoryLabel);
    cacheLayout->addWidget(m_cacheTable);
    layout->addWidget(cacheBox, 1);

    auto *prewarmBox = new QGroupBox(tr("Pre-warm"));
    auto *prewarmLayout = new QVBoxLayout(prewarmBox);
    auto *controls = new QHBoxLayout;
    controls->addWidget(m_tenantCombo, 1);
    controls->addWidget(m_prewarmButton);
    controls->addWidget(m_cancelButton);
    prewarmLayout->addLayout(controls);
    prewarmLayout->addWidget(m_prewarmProgress);
    m_prewarmResultLabel->setWordWrap(true);
    m_prewarmResultLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    prewarmLayout->addWidget(m_prewarmResultLabel);
    layout->addWidget(prewarmBox);

    m_prewarmProgress->setRange(0, 1);
    m_prewarmProgress->setValue(0);
    m_prewarmProgress->setFormat(tr("idle"));

    m_pollTimer.setInterval(kPollIntervalMs);
    connect(&m_pollTimer, &QTimer::timeout, this, &EngineStatusView::poll);

    if (host) {
        for (const Tenant &tenant : host->config().tenants) {
            m_tenantCombo->addItem(tenant.id, tenant.id);
            m_tenantCombo->setItemData(m_tenantCombo->count() - 1, tenant.name, Qt::ToolTipRole);
        }
        connect(m_prewarmButton, &QPushButton::clicked, this, &EngineStatusView::startPrewarm);
        connect(m_cancelButton, &QPushButton::clicked, this, &EngineStatusView::cancelPrewarm);
        connect(m_tenantCombo, &QComboBox::currentIndexChanged, this, &EngineStatusView::updatePrewarmControls);
        connect(host, &EngineHost::prewarmProgress, this, &EngineStatusView::onPrewarmProgress);
        connect(host, &EngineHost::prewarmFinished, this, &EngineStatusView::onPrewarmFinished);
    }
    updatePrewarmControls();
}

void EngineStatusView::apply(const QJsonObject &stats)
{
    if (stats.isEmpty()) {
        for (QLabel *label : {m_liveCallsLabel, m_framesLabel, m_cpuLabel, m_residentLabel, m_redisStateLabel,
                              m_cacheMemoryLabel})
            label->setText(kNoValue);
        m_cacheTable->setRowCount(0);
        return;
    }
    m_liveCallsLabel->setText(count(stats.value(QLatin1String("liveCalls"))));
    m_framesLabel->setText(QStringLiteral("%1 / %2").arg(count(stats.value(QLatin1String("framesSent"))),
                                                          count(stats.value(QLatin1String("lateFrames")))));
    m_cpuLabel->setText(tr("%1 s").arg(stats.value(QLatin1String("cpuSeconds")).toDouble(), 0, 'f', 1));
    m_residentLabel->setText(tr("%1 MB").arg(megabytes(stats.value(QLatin1String("residentBytes")).toDouble())));

    const RedisLook redis = redisLook(stats.value(QLatin1String("redis")).toString());
    m_redisStateLabel->setText(redis.text);
    QPalette palette = m_redisStateLabel->palette();
    palette.setColor(QPalette::WindowText, redis.colour);
    m_redisStateLabel->setPalette(palette);

    const QJsonObject cache = stats.value(QLatin1String("ttsCache")).toObject();
    const QJsonObject memory = cache.value(QLatin1String("memory")).toObject();
    m_cacheMemoryLabel->setText(tr("Memory: %1 of %2 MB, %3 entries, %4 evicted")
                                    .arg(megabytes(memory.value(QLatin1String("usedBytes")).toDouble()),
                                         megabytes(memory.value(QLatin1String("budgetBytes")).toDouble()),
                                         count(memory.value(QLatin1String("entries"))),
                                         count(memory.value(QLatin1String("evictions")))));
    const QJsonObject redisCache = cache.value(QLatin1String("redis")).toObject();
    m_redisStateLabel->setToolTip(
        redisCache.value(QLatin1String("configured")).toBool()
            ? tr("Cache write-backs: %1, %2 failed, %3 skipped while down")
                  .arg(count(redisCache.value(QLatin1String("writes"))),
                       count(redisCache.value(QLatin1String("writeErrors"))),
                       count(redisCache.value(QLatin1String("writesSkipped"))))
            : QString());
    applyCacheTable(cache.value(QLatin1String("tenants")).toObject());
}

void EngineStatusView::applyCacheTable(const QJsonObject &tenants)
{
    // Rows are updated in place (QJsonObject keys come sorted), so the table
    // neither flickers nor loses its scroll position once a second.
    m_cacheTable->setRowCount(int(tenants.size()));
    int row = 0;
    for (auto it = tenants.begin(); it != tenants.end(); ++it, ++row) {
        const QJsonObject t = it.value().toObject();
        const QJsonValue memoryHits = t.value(QLatin1String("memoryHits"));
        const QJsonValue redisHits = t.value(QLatin1String("redisHits"));
        const double hits = memoryHits.toDouble() + redisHits.toDouble();
        const double misses = t.value(QLatin1String("misses")).toDouble();
        // From the counts rather than the engine's "hitRatio", so the row can
        // never contradict itself; no lookups yet reads as no ratio, not 0 %.
        const double lookups = hits + misses;
        setCell(m_cacheTable, row, TenantColumn, it.key());
        setCell(m_cacheTable, row, HitsColumn, QString::number(qint64(hits)));
        setCell(m_cacheTable, row, MissesColumn, QString::number(qint64(misses)));
        setCell(m_cacheTable, row, HitRatioColumn,
                lookups > 0 ? QStringLiteral("%1 %").arg(100.0 * hits / lookups, 0, 'f', 1) : kNoValue);
        setCell(m_cacheTable, row, SplitColumn,
                memoryHits.isDouble() || redisHits.isDouble()
                    ? QStringLiteral("%1 / %2").arg(count(memoryHits), count(redisHits))
                    : kNoValue);
    }
}

void EngineStatusView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_host) {
        poll();
        m_pollTimer.start();
    }
}

void EngineStatusView::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_pollTimer.stop();
}

void EngineStatusView::poll()
{
    if (!m_host)
        return;
    // One request out at a time: a busy engine thread gets no queue of them.
    if (m_fetchSince.isValid() && !m_fetchSince.hasExpired(kFetchGivenUpMs))
        return;
    m_fetchSince.start();
    QPointer<EngineStatusView> self(this);
    m_host->fetchStats([self](const QJsonObject &stats) {
        if (!self)
            return;
        self->m_fetchSince.invalidate();
        self->apply(stats);
    });
}

QString EngineStatusView::selectedTenant() const
{
    return m_tenantCombo->currentData().toString();
}

void EngineStatusView::startPrewarm()
{
    const QString tenantId = selectedTenant();
    if (!m_host || tenantId.isEmpty() || m_prewarming.contains(tenantId))
        return;
    m_prewarming.insert(tenantId, Progress{});
    m_prewarmResultLabel->clear();
    updatePrewarmControls();
    m_host->prewarm(tenantId);
}

void EngineStatusView::cancelPrewarm()
{
    const QString tenantId = selectedTenant();
    if (m_host && m_prewarming.contains(tenantId))
        m_host->cancelPrewarm(tenantId);
}

void EngineStatusView::onPrewarmProgress(const QString &tenantId, int done, int total)
{
    // Also runs started elsewhere (at engine start-up, over HTTP): show them too.
    m_prewarming.insert(tenantId, Progress{done, total});
    if (tenantId == selectedTenant())
        updatePrewarmControls();
}

void EngineStatusView::onPrewarmFinished(const QString &tenantId, const QJsonObject &stats)
{
    m_prewarming.remove(tenantId);
    const int total = stats.value(QLatin1String("total")).toInt();
    const int done = stats.value(QLatin1String("alreadyCached")).toInt() + stats.value(QLatin1String("synthesized")).toInt()
                     + stats.value(QLatin1String("failed")).toInt();
    if (stats.contains(QLatin1String("error")))
        m_lastRun.remove(tenantId); // nothing ran: the bar goes back to idle
    else
        m_lastRun.insert(tenantId, Progress{done, total});
    m_prewarmResultLabel->setText(prewarmSummary(tenantId, stats));
    if (tenantId == selectedTenant())
        updatePrewarmControls();
}

void EngineStatusView::updatePrewarmControls()
{
    const QString tenantId = selectedTenant();
    const bool canWarm = m_host && !tenantId.isEmpty();
    const bool running = m_prewarming.contains(tenantId);
    m_tenantCombo->setEnabled(m_host && m_tenantCombo->count() > 0);
    m_prewarmButton->setEnabled(canWarm && !running);
    m_cancelButton->setEnabled(canWarm && running);

    if (running) {
        const Progress p = m_prewarming.value(tenantId);
        // Until the first progress report the total is unknown: a busy bar.
        m_prewarmProgress->setRange(0, p.total);
        m_prewarmProgress->setValue(p.done);
        m_prewarmProgress->setFormat(tr("%v of %m phrases"));
    } else if (m_lastRun.contains(tenantId)) {
        const Progress p = m_lastRun.value(tenantId);
        // An empty run (nothing to warm) still reads as complete, not as 0 of 0.
        m_prewarmProgress->setRange(0, qMax(p.total, 1));
        m_prewarmProgress->setValue(p.total > 0 ? p.done : 1);
        m_prewarmProgress->setFormat(tr("%v of %m phrases"));
    } else {
        m_prewarmProgress->setRange(0, 1);
        m_prewarmProgress->setValue(0);
        m_prewarmProgress->setFormat(tr("idle"));
    }
}

} // namespace apex
