#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace apex {

// Builds the Prometheus text exposition format (version 0.0.4) for /metrics:
// one HELP/TYPE header per family, then its samples. Label values are escaped.
class PrometheusText
{
public:
    using Labels = QList<QPair<QString, QString>>;

    void family(const QString &name, const char *type, const QString &help);
    void sample(const QString &name, double value, const Labels &labels = {});

    QByteArray text() const { return m_text; }
    static QByteArray contentType() { return QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8"); }

private:
    QByteArray m_text;
};

} // namespace apex
