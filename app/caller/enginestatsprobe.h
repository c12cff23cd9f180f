#pragma once

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <functional>

// Samples the engine's GET /stats while a batch of calls runs, so apex-call can
// report what the calls cost the engine (CPU time, memory at the peak, late
// frames) next to the latencies it measured itself. An engine without /stats
// (or not reachable, or refusing us: it wants an operator token from
// non-loopback peers, or from everyone when it has one) just yields no figures.
class EngineStatsProbe : public QObject
{
    Q_OBJECT
public:
    // operatorToken: sent as `Authorization: Bearer` when not empty.
    EngineStatsProbe(const QString &host, quint16 port, const QString &operatorToken = {}, QObject *parent = nullptr);

    // Takes the baseline sample, then samples every second until finish().
    void start(std::function<void()> ready);
    // Takes the final sample; `done` receives the report text (empty: no figures).
    void finish(int calls, double callSeconds, std::function<void(const QString &)> done);

private:
    void fetch(std::function<void(const QJsonObject &)> handler);

    QNetworkAccessManager m_network;
    QUrl m_url;
    QByteArray m_authorization;
    QTimer m_timer;
    QJsonObject m_before;
    qint64 m_peakResidentBytes = 0;
    int m_peakLiveCalls = 0;
};
