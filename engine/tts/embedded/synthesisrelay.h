#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

namespace apex {

// Carries a worker's results to a job on another thread. Emitted on the worker
// thread and connected to the job with Qt::QueuedConnection, so a job that is
// deleted first simply loses the connection and its pending events: the worker
// never holds a pointer to the job.
class SynthesisRelay : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

Q_SIGNALS:
    void audio(const QByteArray &mulaw8k);
    void finished();
    void failed(const QString &reason);
};

} // namespace apex
