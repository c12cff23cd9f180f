#pragma once

#include "observability/logging.h"
#include "tenancy/engineconfig.h"
#include "tenancy/tenantregistry.h"
#include "whatsapp/chatconversation.h"
#include "whatsapp/dedupewindow.h"
#include "whatsapp/wahaevent.h"
#include "whatsapp/wahaoutbox.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <cstdint>
#include <memory>

namespace apex {

class CircuitBreaker;
class PrometheusText;
class ResponderFactory;
class SessionStore;

namespace waha {

// What the channel knows of a tenant's WhatsApp line, as a stable code for
// /stats, /metrics and the log (the console turns it into words).
enum class LineState {
    Unknown,           // nothing sent yet
    Ok,                // the last reply was delivered
    CoreLimit,         // WAHA Core answers 422 for any session but "default": this tenant needs WAHA Plus (or >= 2026.6.1) or the "default" session
    SessionNotWorking, // WAHA's session is not WORKING (QR not scanned, stopped, failed)
};

const char *lineStateName(LineState state);

// One webhook request, as much of it as the channel reads.
struct WebhookRequest
{
    QByteArray body;
    QByteArray hmac;          // X-Webhook-Hmac
    QByteArray hmacAlgorithm; // X-Webhook-Hmac-Algorithm
    QString peer;             // for log lines
};

struct WebhookAnswer
{
    int status = 200;
    QByteArray text;
};

// The WhatsApp side of the engine: WAHA's webhook in, the responder chain the
// calls use (LLM with the FAQ fallback, same breakers and limits), WAHA's
// sendText out. Lives on the engine thread.
//
// handleWebhook() answers at once: 401 for a missing or wrong signature (when
// an HMAC key is set), 400 for a body that is no WAHA event, 413 for an
// oversized one, 200 for everything else, including events it ignores (own
// messages, groups, status broadcasts, redeliveries, unknown sessions), so
// WAHA never retries what it will never be answered. The work happens after,
// from the event loop.
class WhatsAppChannel : public QObject
{
    Q_OBJECT
public:
    struct Services
    {
        const TenantRegistry *tenants = nullptr;
        ResponderFactory *responders = nullptr;
        SessionStore *sessions = nullptr; // optional
        std::shared_ptr<CircuitBreaker> breaker; // WAHA's
    };

    WhatsAppChannel(const EngineConfig &config, Services services, QObject *parent = nullptr);
    ~WhatsAppChannel() override;

    WebhookAnswer handleWebhook(const WebhookRequest &request);

    LineState lineState(const QString &tenantId) const { return m_lines.value(tenantId).state; }
    int liveChats() const { return int(m_chats.size()); }
    QJsonObject stats() const;
    void appendMetrics(PrometheusText &out) const;

    // The tenant that answers a message on this WAHA session, to this number:
    // the tenant whose whatsappSession it is; else the one whose numbers hold
    // the receiving number; else, on a box where no tenant names a session,
    // the default tenant. nullptr: nobody (the message is logged and ignored).
    static TenantPtr resolveTenant(const TenantRegistry &tenants, const QString &session, const QString &receivingNumber);

Q_SIGNALS:
    // For observers (tests, a future console view): one exchange of one chat.
    void chatTurn(const QString &tenantId, const QString &chatId, const QString &userText, const QString &reply);
    void lineStateChanged(const QString &tenantId, apex::waha::LineState state, const QString &detail);

private:
    struct Line
    {
        LineState state = LineState::Unknown;
        QString detail;
        QDateTime since;
    };
    struct Counters
    {
        std::uint64_t received = 0;
        std::uint64_t answeredText = 0;
        std::uint64_t answeredNotText = 0;
        std::uint64_t duplicates = 0;
        std::uint64_t ignored = 0;
        std::uint64_t unknownTenant = 0;
        std::uint64_t refusedSignature = 0;
        std::uint64_t badRequests = 0;
        std::uint64_t delivered = 0;
        std::uint64_t dropped = 0;
    };

    void route(const InboundMessage &message);
    ChatConversation *conversationFor(const TenantPtr &tenant, const InboundMessage &message);
    void setLine(const QString &tenantId, LineState state, const QString &detail);
    void sweepIdleChats();

    EngineConfig m_config;
    Services m_services;
    log::CallLogger m_log;
    DedupeWindow m_dedupe;
    WahaOutbox *m_outbox = nullptr; // child
    QHash<QString, ChatConversation *> m_chats; // children, by tenant + chat id
    QHash<ChatConversation *, qint64> m_lastActive; // monotonic ms
    QHash<QString, Line> m_lines; // by tenant id
    Counters m_counters;
    QTimer m_sweep;
    QElapsedTimer m_clock;
};

} // namespace waha
} // namespace apex
