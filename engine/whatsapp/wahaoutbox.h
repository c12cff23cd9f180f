#pragma once

#include "observability/logging.h"
#include "providers/breakerpass.h"
#include "providers/circuitbreaker.h"
#include "whatsapp/wahaclient.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSet>
#include <QString>
#include <QTimer>

#include <deque>
#include <memory>

namespace apex::waha {

// One WhatsApp message on its way out.
struct OutgoingText
{
    QString tenantId;
    QString session;
    QString chatId;
    QString text;
    qint64 queuedAtMs = 0; // monotonic, set by the outbox
    int attempts = 0;
};

// Every reply leaves through here, in order per chat, through WAHA's breaker.
//
// A send that fails the way a sick WAHA fails (5xx, timeout, refused
// connection, 401, 429) stays at its place in the queue and is tried again
// after a short backoff; those failures open the breaker, and while it is open
// nothing is sent: the queue waits (bounded: the oldest is dropped beyond
// `capacity`, anything older than `maxAgeMs` too) and its head goes as the
// half-open probe when the cool-down ends. One success closes the breaker and
// the rest follows, so a chat gets its reply once when WAHA is back. A reply
// WAHA refuses for good (the Core 422, a session that is not WORKING, another
// 4xx) is dropped with its reason: WAHA answered, so its breaker counts a success.
//
// At most `concurrency` sends in flight, never two for the same chat (that
// would reorder its messages). Typing indicators are best effort: sent only
// while the breaker is closed, never retried, never counted.
class WahaOutbox : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        int capacity = 500;
        qint64 maxAgeMs = 900'000;
        int concurrency = 4;
        int retryInitialMs = 200;
        int retryMaxMs = 5000;
    };

    WahaOutbox(WahaClient *client, std::shared_ptr<CircuitBreaker> breaker, Settings settings, QObject *parent = nullptr);

    void enqueue(OutgoingText message);
    void setTyping(const QString &session, const QString &chatId, bool typing);

    int queued() const { return int(m_queue.size()); }
    int inFlight() const { return m_inFlight; }

Q_SIGNALS:
    void delivered(const apex::waha::OutgoingText &message);
    // WAHA refused it for good (outcome says why), or it aged out / overflowed
    // (outcome kind Failed with the detail).
    void dropped(const apex::waha::OutgoingText &message, const apex::waha::SendOutcome &outcome);

private:
    void pump();
    void schedule(qint64 delayMs);
    void send(qsizetype index, BreakerPass pass);
    void onOutcome(quint64 serial, BreakerPass &pass, const SendOutcome &outcome);
    qint64 nowMs() const { return m_clock.elapsed(); }
    static QString chatKey(const OutgoingText &m) { return m.session + QLatin1Char('\x1f') + m.chatId; }

    struct Entry
    {
        quint64 serial = 0;
        OutgoingText message;
        bool sending = false;
    };

    WahaClient *m_client;
    std::shared_ptr<CircuitBreaker> m_breaker;
    Settings m_settings;
    std::deque<Entry> m_queue;
    QSet<QString> m_busyChats;
    quint64 m_nextSerial = 1;
    int m_inFlight = 0;
    bool m_probeOut = false;
    int m_retryDelayMs = 0;
    qint64 m_notBeforeMs = 0; // backoff after a failure
    QTimer m_wake;
    QElapsedTimer m_clock;
};

} // namespace apex::waha
