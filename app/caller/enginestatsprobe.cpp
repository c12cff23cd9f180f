#include "enginestatsprobe.h"

#include <QJsonDocument>
#include <QNetworkReply>

EngineStatsProbe::EngineStatsProbe(const QString &host, quint16 port, const QString &operatorToken, QObject *parent)
    : QObject(parent)
{
    if (!operatorToken.isEmpty())
        m_authorization = "Bearer " + operatorToken.toUtf8();
    m_url.setScheme(QStringLiteral("http"));
    m_url.setHost(host);
    m_url.setPort(port);
    m_url.setPath(QStringLiteral("/stats"));
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        fetch([this](const QJsonObject &sample) {
            m_peakResidentBytes = std::max(m_peakResidentBytes, sample.value(QStringLiteral("residentBytes")).toInteger());
            m_peakLiveCalls = std::max(m_peakLiveCalls, sample.value(QStringLiteral("liveCalls")).toInt());
        });
    });
}

void EngineStatsProbe::fetch(std::function<void(const QJsonObject &)> handler)
{
    QNetworkRequest request(m_url);
    request.setTransferTimeout(2000);
    if (!m_authorization.isEmpty())
        request.setRawHeader(QByteArrayLiteral("Authorization"), m_authorization);
    QNetworkReply *reply = m_network.get(request);
    connect(reply, &QNetworkReply::finished, this, [reply, handler] {
        reply->deleteLater();
        const auto doc = QJsonDocument::fromJson(reply->readAll());
        handler(reply->error() == QNetworkReply::NoError && doc.isObject() ? doc.object() : QJsonObject());
    });
}

void EngineStatsProbe::start(std::function<void()> ready)
{
    fetch([this, ready](const QJsonObject &sample) {
        m_before = sample;
        m_peakResidentBytes = sample.value(QStringLiteral("residentBytes")).toInteger();
        if (!sample.isEmpty())
            m_timer.start();
        ready();
    });
}

void EngineStatsProbe::finish(int calls, double callSeconds, std::function<void(const QString &)> done)
{
    m_timer.stop();
    if (m_before.isEmpty()) {
        done(QString());
        return;
    }
    fetch([this, calls, callSeconds, done](const QJsonObject &after) {
        if (after.isEmpty()) {
            done(QString());
            return;
        }
        auto delta = [&](const char *key) {
            return after.value(QLatin1String(key)).toDouble() - m_before.value(QLatin1String(key)).toDouble();
        };
        m_peakResidentBytes = std::max(m_peakResidentBytes, after.value(QStringLiteral("residentBytes")).toInteger());
        const double cpu = delta("cpuSeconds");
        const double baseMb = m_before.value(QStringLiteral("residentBytes")).toDouble() / 1048576.0;
        const double peakMb = double(m_peakResidentBytes) / 1048576.0;
        const qint64 frames = qint64(delta("framesSent"));
        const qint64 late = qint64(delta("lateFrames"));
        QString text;
        text += QStringLiteral("engine: CPU %1 s for %2 calls (%3 ms per call, %4 % of one core per live call)\n")
                    .arg(cpu, 0, 'f', 2)
                    .arg(calls)
                    .arg(calls > 0 ? cpu * 1000.0 / calls : 0.0, 0, 'f', 0)
                    .arg(callSeconds > 0 ? 100.0 * cpu / callSeconds : 0.0, 0, 'f', 1);
        text += QStringLiteral("engine: resident %1 MB before, %2 MB at peak (%3 live calls): %4 MB per call\n")
                    .arg(baseMb, 0, 'f', 1)
                    .arg(peakMb, 0, 'f', 1)
                    .arg(m_peakLiveCalls)
                    .arg(m_peakLiveCalls > 0 ? (peakMb - baseMb) / m_peakLiveCalls : 0.0, 0, 'f', 2);
        text += QStringLiteral("engine: frames sent %1, late (>5 ms after deadline) %2\n").arg(frames).arg(late);
        done(text);
    });
}
