#pragma once

#include "host/providerstatus.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QPointer>
#include <QTimer>
#include <QWidget>

class QLabel;
class QTableWidget;

namespace apex {

class EngineHost;

// What governs the providers across calls: every circuit breaker (state with
// colour and word, failures, last error, next probe), the LLM concurrency limit
// and what is in flight, the tenants' quotas and the WhatsApp lines. Fed by
// /stats snapshots that EngineHost fetches on the engine thread and hands back
// queued; polled about once a second while the dock is shown.
class ProvidersView : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kPollIntervalMs = 1000;

    // `host` may be null (tests, a console without an engine): nothing is polled.
    explicit ProvidersView(EngineHost *host, QWidget *parent = nullptr);

    // Shows one snapshot. Public so a test can feed canned /stats without an engine.
    void apply(const ProviderStatus &status);
    void apply(const QJsonObject &stats) { apply(ProviderStatus::fromStats(stats)); }

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void poll();

    QPointer<EngineHost> m_host;
    QTimer m_pollTimer;
    QElapsedTimer m_fetchSince; // valid while a fetch is out

    QLabel *m_emptyLabel;
    QTableWidget *m_breakers;
    QLabel *m_llmLabel;
    QTableWidget *m_quotas;
    QLabel *m_whatsAppLabel;
    QTableWidget *m_whatsApp;
};

} // namespace apex
