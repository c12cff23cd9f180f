#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QWidget>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace apex {

class EngineHost;

// The engine's health at a glance (calls, frames, process cost, Redis, the TTS
// cache per tenant) and on-demand cache pre-warming. Everything shown comes
// from /stats snapshots fetched through EngineHost and from its queued
// pre-warm signals; the view never touches an engine object.
class EngineStatusView : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kPollIntervalMs = 1000;

    // `host` may be null (a console without an engine of its own): the view
    // then says so, never polls, and its pre-warm controls stay disabled.
    explicit EngineStatusView(EngineHost *host, QWidget *parent = nullptr);

    // Shows one /stats snapshot. Public so a test can feed a sample without an
    // engine; an empty object (engine not running) blanks the figures.
    void apply(const QJsonObject &stats);

protected:
    // Polling only while shown: a closed dock costs the engine thread nothing.
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    struct Progress
    {
        int done = 0;
        int total = 0;
    };

    void poll();
    void applyCacheTable(const QJsonObject &tenants);
    void startPrewarm();
    void cancelPrewarm();
    void onPrewarmProgress(const QString &tenantId, int done, int total);
    void onPrewarmFinished(const QString &tenantId, const QJsonObject &stats);
    QString selectedTenant() const;
    void updatePrewarmControls();

    QPointer<EngineHost> m_host;
    QTimer m_pollTimer;
    QElapsedTimer m_fetchSince; // valid while a fetch is out
    QHash<QString, Progress> m_prewarming; // tenants warming now, with their latest progress
    QHash<QString, Progress> m_lastRun;    // tenants' last finished run, for the bar when reselected

    QLabel *m_liveCallsLabel;
    QLabel *m_framesLabel;
    QLabel *m_cpuLabel;
    QLabel *m_residentLabel;
    QLabel *m_redisStateLabel;
    QLabel *m_cacheMemoryLabel;
    QTableWidget *m_cacheTable;
    QComboBox *m_tenantCombo;
    QPushButton *m_prewarmButton;
    QPushButton *m_cancelButton;
    QProgressBar *m_prewarmProgress;
    QLabel *m_prewarmResultLabel;
};

} // namespace apex
