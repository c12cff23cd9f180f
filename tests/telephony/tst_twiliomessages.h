#pragma once

#include "telephony/twiliomessages.h"

#include <QObject>

Q_DECLARE_METATYPE(apex::twilio::ParseErrorKind)

// Declared apart from the test bodies: moc cannot parse the raw-string JSON in them.
class TestTwilioMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesConnected();
    void parsesStart();
    void parsesMedia();
    void parsesDtmf();
    void parsesMark();
    void parsesStop();
    void acceptsNumericCounters();
    void errors_data();
    void errors();
    void frameTooLarge();
    void writesOutboundExactly();
    void escapesStrings();
    void writesInboundWithStringCounters();
    void roundTripsInbound();
    void parsesOutbound();
    void outboundErrors_data();
    void outboundErrors();
    void twimlEscapes();
};
