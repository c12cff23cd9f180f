#pragma once

#include "http/apexserver.h"
#include "telephony/twiliomedialeg.h"

#include <QObject>
#include <QSignalSpy>
#include <QWebSocket>

#include <spdlog/sinks/ringbuffer_sink.h>

#include <memory>
#include <vector>

// One leg the server handed out, with spies attached the moment it appeared.
struct LegProbe
{
    explicit LegProbe(apex::TwilioMediaLeg *l);
    std::unique_ptr<apex::TwilioMediaLeg> leg;
    QSignalSpy started;
    QSignalSpy audio;
    QSignalSpy dtmf;
    QSignalSpy marks;
    QSignalSpy ended;
};

// A Twilio stand-in: a client socket with everything it received.
struct FakeTwilio
{
    QWebSocket socket;
    QList<QString> received;
    int closeCode = -1;
    QString closeReason;
    bool disconnected = false;
    QString streamSid;
    int sequence = 0;
    int chunk = 0;
};

// Declared apart from the bodies: moc cannot parse the raw-string JSON in them.
class TestApexServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void listenAddressParsing_data();
    void listenAddressParsing();
    void listenFailsWithReason();
    void healthz();
    void unknownRouteIs404();
    void voiceWebhookReturnsTwiml();
    void voiceWebhookEscapesAndUsesPublicUrl();
    void voiceWebhookRefusesUnknownTenant();
    void mediaUrlFromPublicUrl_data();
    void mediaUrlFromPublicUrl();
    void parseFormDecodesPlus();
    void mediaStreamDeliversStartAndAudio();
    void outboundMessagesAreExactJson();
    void sendsBeforeStartAreDropped();
    void hangUpClosesNormally();
    void badInputClosesOnlyThatCall_data();
    void badInputClosesOnlyThatCall();
    void unknownWebSocketPathIsClosed();
    void noStartWithinTimeout();
    void legOutlivesServer();

private:
    std::unique_ptr<FakeTwilio> connectClient(const QString &path = QStringLiteral("/twilio/media"));
    LegProbe *probeFor(const FakeTwilio &client);
    void startCall(FakeTwilio &client, const QString &callSid, const QString &tenant);
    void sendMedia(FakeTwilio &client, const QByteArray &mulaw);
    bool logContains(const QString &needle) const;
    QByteArray httpRequest(const QByteArray &method, const QString &path, const QByteArray &body, int *status,
                           QByteArray *contentType);

    std::unique_ptr<apex::ApexServer> m_server;
    std::vector<std::unique_ptr<LegProbe>> m_legs;
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> m_logSink;
};
