#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QMap>
#include <QObject>
#include <QString>

namespace apex {

struct CallStartInfo
{
    QString callId;   // provider's call id (Twilio CallSid)
    QString streamId; // provider's stream id (Twilio streamSid)
    QString from;
    QString to;
    QMap<QString, QString> parameters; // Twilio <Parameter>s (tenant, ...)
};

enum class CallEndReason { CallerHungUp, AgentHungUp, ProtocolError, TransportClosed };

// One side of a call as the pipeline sees it, whatever the telephony provider.
// Lives on the call's engine thread.
class CallLeg : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~CallLeg() override = default;

    // 20 ms of 8 kHz mu-law (160 bytes) towards the caller.
    virtual void sendAudio(QByteArrayView mulaw) = 0;
    // Asks the provider to report when everything sent so far has played.
    virtual void sendMark(const QString &name) = 0;
    // Drops audio the provider has buffered but not played (barge-in).
    virtual void clearAudio() = 0;
    virtual void hangUp() = 0;

Q_SIGNALS:
    void started(const apex::CallStartInfo &info);
    void audioReceived(const QByteArray &mulaw);
    void dtmfReceived(QChar digit);
    void markPlayed(const QString &name);
    void ended(apex::CallEndReason reason, const QString &detail);
};

} // namespace apex
