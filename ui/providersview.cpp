#include "ui/providersview.h"

#include "host/enginehost.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace apex {

namespace {

// A fetch that never came back (engine thread wedged) is given up after this.
constexpr int kFetchGivenUpMs = 10'000;

QTableWidget *makeTable(const QString &objectName, const QStringList &headers)
{
    auto *table = new QTableWidget(0, int(headers.size()));
    table->setObjectName(objectName);
    table->setHorizontalHeaderLabels(headers);
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionMode(QAbstractItemView::NoSelection);
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table->horizontalHeader()->setStretchLastSection(true);
    table->setWordWrap(false);
    return table;
}

QTableWidgetItem *item(const QString &text, const QString &toolTip = {})
{
    auto *cell = new QTableWidgetItem(text);
    cell->setToolTip(toolTip.isEmpty() ? text : toolTip);
    return cell;
}

// Colour carries the state at a glance; the word carries it for everyone.
QTableWidgetItem *stateItem(ProviderStatus::BreakerState state)
{
    auto *cell = item(breakerStateText(state));
    QColor background;
    switch (state) {
    case ProviderStatus::BreakerState::Closed: background = QColor(0xc8, 0xe6, 0xc9); break;
    case ProviderStatus::BreakerState::Open: background = QColor(0xff, 0xcd, 0xd2); break;
    case ProviderStatus::BreakerState::HalfOpen: background = QColor(0xff, 0xec, 0xb3); break;
    case ProviderStatus::BreakerState::Unknown: break;
    }
    if (background.isValid()) {
        cell->setBackground(background);
        cell->setForeground(QColor(Qt::black));
    }
    switch (state) {
    case ProviderStatus::BreakerState::Closed: cell->setToolTip(ProvidersView::tr("Closed: requests go to the provider")); break;
    case ProviderStatus::BreakerState::Open: cell->setToolTip(ProvidersView::tr("Open: calls go straight to the fallback until the next probe")); break;
    case ProviderStatus::BreakerState::HalfOpen: cell->setToolTip(ProvidersView::tr("Half-open: one probe request decides whether it closes")); break;
    case ProviderStatus::BreakerState::Unknown: break;
    }
    return cell;
}

QString sinceText(const QDateTime &since)
{
    return since.isValid() ? since.toLocalTime().toString(QStringLiteral("HH:mm:ss")) : QString();
}

} // namespace

ProvidersView::ProvidersView(EngineHost *host, QWidget *parent)
    : QWidget(parent)
    , m_host(host)
    , m_emptyLabel(new QLabel)
    , m_breakers(makeTable(QStringLiteral("breakersTable"),
                           {tr("Provider"), tr("Endpoint"), tr("State"), tr("Failures"), tr("Next probe"), tr("Last error")}))
    , m_llmLabel(new QLabel)
    , m_quotas(makeTable(QStringLiteral("quotasTable"), {tr("Tenant"), tr("LLM requests in use"), tr("Quota"), tr("Refused")}))
    , m_whatsAppLabel(new QLabel)
    , m_whatsApp(makeTable(QStringLiteral("whatsAppTable"), {tr("Tenant"), tr("Line"), tr("Since"), tr("Detail")}))
{
    setObjectName(QStringLiteral("providersView"));
    m_emptyLabel->setObjectName(QStringLiteral("providersEmptyLabel"));
    m_emptyLabel->setWordWrap(true);
    m_llmLabel->setObjectName(QStringLiteral("llmConcurrencyLabel"));
    m_llmLabel->setWordWrap(true);
    m_whatsAppLabel->setObjectName(QStringLiteral("whatsAppLabel"));
    m_whatsAppLabel->setWordWrap(true);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyLabel);
    layout->addWidget(new QLabel(tr("<b>Circuit breakers</b>")));
    layout->addWidget(m_breakers, 2);
    layout->addWidget(new QLabel(tr("<b>LLM concurrency</b>")));
    layout->addWidget(m_llmLabel);
    layout->addWidget(m_quotas, 1);
    layout->addWidget(new QLabel(tr("<b>WhatsApp</b>")));
    layout->addWidget(m_whatsAppLabel);
    layout->addWidget(m_whatsApp, 1);

    m_pollTimer.setInterval(kPollIntervalMs);
    connect(&m_pollTimer, &QTimer::timeout, this, &ProvidersView::poll);
    apply(ProviderStatus{});
}

void ProvidersView::apply(const ProviderStatus &status)
{
    if (!status.engineAnswered) {
        m_emptyLabel->setText(m_host ? tr("Waiting for the engine… Each provider's circuit breaker (closed, open or "
                                          "half-open, its failures, last error and next probe), the LLM concurrency "
                                          "limit, tenant quotas and WhatsApp lines will appear here.")
                                     : tr("No engine attached. With an engine, each provider's circuit breaker (closed, "
                                          "open or half-open, its failures, last error and next probe), the LLM "
                                          "concurrency limit, tenant quotas and WhatsApp lines appear here."));
    } else if (status.breakers.isEmpty()) {
        m_emptyLabel->setText(tr("No cloud provider has been called yet. Each provider's circuit breaker (closed, open "
                                 "or half-open, its failures, last error and next probe) appears here once a call "
                                 "or chat has used it; the embedded providers have none."));
    }
    m_emptyLabel->setVisible(!status.engineAnswered || status.breakers.isEmpty());

    m_breakers->setRowCount(int(status.breakers.size()));
    for (int row = 0; row < status.breakers.size(); ++row) {
        const auto &b = status.breakers.at(row);
        m_breakers->setItem(row, 0, item(b.provider));
        m_breakers->setItem(row, 1, item(b.endpoint));
        m_breakers->setItem(row, 2, stateItem(b.state));
        m_breakers->setItem(row, 3, item(tr("%1 of %2 in a row, %3 in all").arg(b.consecutiveFailures).arg(b.failureThreshold).arg(b.totalFailures),
                                         tr("Opened %n time(s)", nullptr, int(b.timesOpened))));
        const bool probing = b.state != ProviderStatus::BreakerState::Closed && b.nextProbeInSeconds > 0;
        m_breakers->setItem(row, 4, item(probing ? tr("in %1 s").arg(b.nextProbeInSeconds, 0, 'f', 0) : QString()));
        m_breakers->setItem(row, 5, item(b.lastError));
    }

    if (!status.hasLlmConcurrency) {
        m_llmLabel->setText(tr("The LLM concurrency limit (AIMD) and each tenant's quota appear here."));
    } else {
        QString text = tr("Limit %1, in flight %2, refused %3").arg(status.llmLimit).arg(status.llmInFlight).arg(status.llmRefused);
        if (status.llmBlockedForSeconds > 0)
            text += tr("; rate-limited for %1 s more").arg(status.llmBlockedForSeconds, 0, 'f', 0);
        m_llmLabel->setText(text);
    }
    m_quotas->setRowCount(int(status.tenantQuotas.size()));
    m_quotas->setVisible(!status.tenantQuotas.isEmpty());
    for (int row = 0; row < status.tenantQuotas.size(); ++row) {
        const auto &t = status.tenantQuotas.at(row);
        m_quotas->setItem(row, 0, item(t.tenantId));
        m_quotas->setItem(row, 1, item(QString::number(t.inUse)));
        m_quotas->setItem(row, 2, item(t.quota > 0 ? QString::number(t.quota) : tr("global limit only")));
        m_quotas->setItem(row, 3, item(QString::number(t.refused)));
    }

    if (!status.whatsAppConfigured)
        m_whatsAppLabel->setText(tr("WhatsApp is off: set WAHA_URL to answer chats; each tenant's line state appears here."));
    else if (status.whatsAppLines.isEmpty())
        m_whatsAppLabel->setText(tr("WhatsApp is on; no line has reported its state yet."));
    m_whatsAppLabel->setVisible(!status.whatsAppConfigured || status.whatsAppLines.isEmpty());
    m_whatsApp->setVisible(!status.whatsAppLines.isEmpty());
    m_whatsApp->setRowCount(int(status.whatsAppLines.size()));
    for (int row = 0; row < status.whatsAppLines.size(); ++row) {
        const auto &line = status.whatsAppLines.at(row);
        m_whatsApp->setItem(row, 0, item(line.tenantId));
        m_whatsApp->setItem(row, 1, item(line.state));
        m_whatsApp->setItem(row, 2, item(sinceText(line.since), line.since.toString(Qt::ISODate)));
        m_whatsApp->setItem(row, 3, item(line.detail));
    }
}

void ProvidersView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_host) {
        poll();
        m_pollTimer.start();
    }
}

void ProvidersView::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_pollTimer.stop();
}

void ProvidersView::poll()
{
    if (!m_host)
        return;
    // One request out at a time: a busy engine thread gets no queue of them.
    if (m_fetchSince.isValid() && !m_fetchSince.hasExpired(kFetchGivenUpMs))
        return;
    m_fetchSince.start();
    QPointer<ProvidersView> self(this);
    m_host->fetchStats([self](const QJsonObject &stats) {
        if (!self)
            return;
        self->m_fetchSince.invalidate();
        self->apply(stats);
    });
}

} // namespace apex
