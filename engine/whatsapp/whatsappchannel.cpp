#include "whatsapp/whatsappchannel.h"

#include "observability/logescape.h"
#include "observability/prometheustext.h"
#include "whatsapp/replychunker.h"
#include "whatsapp/webhooksignature.h"

#include <QJsonArray>
#include <QMetaObject>

namespace apex::waha {

namespace {

// A chat with nothing to do is forgotten after this long (its history stays in
// the session store); the cap bounds memory under a flood of new numbers.
constexpr qint64 kIdleChatMs = 10 * 60 * 1000;
constexpr int kMaxChats = 10000;
constexpr int kSweepMs = 60 * 1000;
constexpr qsizetype kLogIdChars = 64;

QString chatKey(const QString &tenantId, const QString &chatId)
{
    return tenantId + QLatin1Char('\x1f') + chatId;
}

} // namespace

const char *lineStateName(LineState state)
{
    switch (state) {
    case LineState::Unknown: return "UNKNOWN";
    case LineState::Ok: return "OK";
    case LineState::CoreLimit: return "CORE_LIMIT";
    case LineState::SessionNotWorking: return "SESSION_NOT_WORKING";
    }
    return "UNKNOWN";
}

WhatsAppChannel::WhatsAppChannel(const EngineConfig &config, Services services, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_services(std::move(services))
    , m_log("whatsapp")
    , m_dedupe(config.whatsapp.dedupeCapacity, qint64(config.whatsapp.dedupeWindowSeconds) * 1000)
{
    m_clock.start();
    const ProviderConfig &p = config.providers;
    auto *client = new WahaClient(WahaClient::Settings{QUrl(p.wahaUrl), p.wahaApiKey, config.whatsapp.requestTimeoutMs});
    WahaOutbox::Settings outbox;
    outbox.capacity = config.whatsapp.outboxCapacity;
    outbox.maxAgeMs = qint64(config.whatsapp.outboxMaxAgeSeconds) * 1000;
    m_outbox = new WahaOutbox(client, m_services.breaker, outbox, this);
    // The client dies with the outbox, so no answer reaches a dead outbox.
    client->setParent(m_outbox);

    connect(m_outbox, &WahaOutbox::delivered, this, [this](const OutgoingText &message) {
        ++m_counters.delivered;
        setLine(message.tenantId, LineState::Ok, {});
    });
    connect(m_outbox, &WahaOutbox::dropped, this, [this](const OutgoingText &message, const SendOutcome &outcome) {
        ++m_counters.dropped;
        if (outcome.kind == SendOutcome::Kind::CoreLimit)
            setLine(message.tenantId, LineState::CoreLimit,
                    QStringLiteral("WAHA Core serves only the \"default\" session; session \"%1\" was refused (HTTP 422): "
                                   "set this tenant's whatsappSession to \"default\" or run WAHA Plus / 2026.6.1 or later")
                        .arg(logSafe(message.session, kLogIdChars)));
        else if (outcome.kind == SendOutcome::Kind::SessionNotWorking)
            setLine(message.tenantId, LineState::SessionNotWorking,
                    QStringLiteral("WAHA session \"%1\" is not WORKING: %2").arg(logSafe(message.session, kLogIdChars), outcome.detail));
    });

    m_sweep.setInterval(kSweepMs);
    connect(&m_sweep, &QTimer::timeout, this, &WhatsAppChannel::sweepIdleChats);
    m_sweep.start();

    if (p.wahaHmacKey.isEmpty())
        m_log.warn("no WAHA HMAC key (WAHA_HMAC_KEY or providers.wahaHmacKey): accepting unsigned webhooks at {}",
                   config.whatsapp.webhookPath);
    m_log.info("WhatsApp through WAHA at {} (API key {}); webhook {}{}", logSafe(p.wahaUrl),
               p.wahaApiKey.isEmpty() ? "not set" : "set", config.whatsapp.webhookPath,
               p.wahaHmacKey.isEmpty() ? QString() : QStringLiteral(", HMAC-SHA512 signatures required"));
}

WhatsAppChannel::~WhatsAppChannel() = default;

TenantPtr WhatsAppChannel::resolveTenant(const TenantRegistry &tenants, const QString &session, const QString &receivingNumber)
{
    const QList<TenantPtr> all = tenants.all();
    bool anyNamesASession = false;
    for (const TenantPtr &tenant : all) {
        if (!tenant->whatsappSession.isEmpty()) {
            anyNamesASession = true;
            if (tenant->whatsappSession == session)
                return tenant;
        }
    }
    // "9198…@c.us" -> its digits; an @lid id has none that mean a number.
    if (!receivingNumber.endsWith(QLatin1String("@lid"))) {
        if (TenantPtr byNumber = tenants.findByNumber(receivingNumber.section(QLatin1Char('@'), 0, 0)))
            return byNumber;
    }
    return anyNamesASession ? nullptr : tenants.defaultTenant();
}

WebhookAnswer WhatsAppChannel::handleWebhook(const WebhookRequest &request)
{
    const int maxBody = m_config.limits.maxBodyBytes;
    if (request.body.size() > maxBody) {
        ++m_counters.badRequests;
        m_log.warn("WAHA webhook from {} refused with 413: {} bytes, more than {}", request.peer, request.body.size(), maxBody);
        return {413, QByteArrayLiteral("event too large\n")};
    }
    const QString &hmacKey = m_config.providers.wahaHmacKey;
    if (!hmacKey.isEmpty()) {
        const SignatureCheck check = checkSignature(hmacKey.toUtf8(), request.body, request.hmac, request.hmacAlgorithm);
        if (check != SignatureCheck::Valid) {
            ++m_counters.refusedSignature;
            m_log.warn("WAHA webhook from {} refused with 401: signature {}{}", request.peer, signatureCheckName(check),
                       check == SignatureCheck::UnsupportedAlgorithm
                           ? QStringLiteral(" (\"%1\")").arg(logSafe(QString::fromLatin1(request.hmacAlgorithm), 32))
                           : QString());
            return {401, QByteArrayLiteral("invalid signature\n")};
        }
    }
    ParseError error;
    const std::optional<InboundMessage> message = parseEvent(request.body, &error);
    if (!message) {
        ++m_counters.badRequests;
        m_log.warn("WAHA webhook from {} refused with 400: {}", request.peer, logSafe(error.message));
        return {400, QByteArrayLiteral("not a WAHA event\n")};
    }
    if (message->kind == InboundKind::OtherEvent) {
        m_log.debug("WAHA event \"{}\" ignored", logSafe(message->event, kLogIdChars));
        return {200, QByteArrayLiteral("ignored\n")};
    }
    ++m_counters.received;
    // Here, not later: a redelivery arriving before the first one is handled is caught too.
    if (!m_dedupe.firstSighting(message->session + QLatin1Char('\x1f') + message->dedupeId())) {
        ++m_counters.duplicates;
        m_log.info("WAHA redelivered message {} (session {}): already answered", logSafe(message->dedupeId(), 128),
                   logSafe(message->session, kLogIdChars));
        return {200, QByteArrayLiteral("duplicate\n")};
    }
    QMetaObject::invokeMethod(this, [this, m = *message] { route(m); }, Qt::QueuedConnection);
    return {200, QByteArrayLiteral("accepted\n")};
}

void WhatsAppChannel::route(const InboundMessage &message)
{
    switch (message.kind) {
    case InboundKind::FromMe:
    case InboundKind::Group:
    case InboundKind::StatusBroadcast:
    case InboundKind::OtherEvent:
        ++m_counters.ignored;
        m_log.debug("message {} ignored: {}", logSafe(message.dedupeId(), 128), inboundKindName(message.kind));
        return;
    case InboundKind::Text:
    case InboundKind::NotText:
        break;
    }
    const QString receiving = message.meId.isEmpty() ? message.to : message.meId;
    const TenantPtr tenant = resolveTenant(*m_services.tenants, message.session, receiving);
    if (!tenant) {
        ++m_counters.unknownTenant;
        m_log.warn("message on WAHA session \"{}\" to {} ignored: no tenant has this whatsappSession or number",
                   logSafe(message.session, kLogIdChars), logSafe(receiving, kLogIdChars));
        return;
    }
    ChatConversation *chat = conversationFor(tenant, message);
    m_lastActive[chat] = m_clock.elapsed();
    if (message.kind == InboundKind::Text) {
        ++m_counters.answeredText;
        chat->receiveText(message.body);
    } else {
        ++m_counters.answeredNotText;
        chat->receiveNotText();
    }
}

ChatConversation *WhatsAppChannel::conversationFor(const TenantPtr &tenant, const InboundMessage &message)
{
    const QString key = chatKey(tenant->id, message.chatId);
    if (ChatConversation *chat = m_chats.value(key)) {
        if (chat->session() == message.session)
            return chat;
    }
    if (m_chats.size() >= kMaxChats)
        sweepIdleChats();
    ChatConversation::Services services{m_services.responders, m_services.sessions, m_config.whatsapp.replyDeadlineMs};
    auto *chat = new ChatConversation(tenant, message.session, message.chatId, services, this);
    if (ChatConversation *previous = m_chats.value(key)) {
        // The tenant moved to another WAHA session: the old chat finishes on its own.
        m_lastActive.remove(previous);
        if (previous->isIdle()) {
            previous->deleteLater();
        } else {
            connect(previous, &ChatConversation::turnCompleted, previous, [previous] {
                if (previous->isIdle())
                    previous->deleteLater();
            });
        }
    }
    m_chats.insert(key, chat);
    const QString tenantId = tenant->id;
    const QString session = message.session;
    const QString chatId = message.chatId;
    const int maxChars = m_config.whatsapp.maxMessageChars;
    connect(chat, &ChatConversation::typingChanged, this, [this, session, chatId](bool typing) {
        m_outbox->setTyping(session, chatId, typing);
    });
    connect(chat, &ChatConversation::replyReady, this, [this, tenantId, session, chatId, maxChars](const QString &text) {
        for (const QString &piece : splitForWhatsApp(text, maxChars))
            m_outbox->enqueue(OutgoingText{tenantId, session, chatId, piece});
    });
    connect(chat, &ChatConversation::turnCompleted, this,
            [this, tenantId, chatId, chat](const QString &user, const QString &reply, bool) {
                m_lastActive[chat] = m_clock.elapsed();
                Q_EMIT chatTurn(tenantId, chatId, user, reply);
            });
    return chat;
}

void WhatsAppChannel::sweepIdleChats()
{
    const qint64 now = m_clock.elapsed();
    for (auto it = m_chats.begin(); it != m_chats.end();) {
        ChatConversation *chat = it.value();
        const bool idleLongEnough = now - m_lastActive.value(chat, 0) > kIdleChatMs
                                    || (m_chats.size() >= kMaxChats && chat->isIdle());
        if (chat->isIdle() && idleLongEnough) {
            m_lastActive.remove(chat);
            chat->deleteLater();
            it = m_chats.erase(it);
            continue;
        }
        ++it;
    }
}

void WhatsAppChannel::setLine(const QString &tenantId, LineState state, const QString &detail)
{
    Line &line = m_lines[tenantId];
    if (line.state == state)
        return;
    line.state = state;
    line.detail = detail;
    line.since = QDateTime::currentDateTimeUtc();
    if (state == LineState::Ok)
        m_log.info("tenant {}: WhatsApp line {}", tenantId, lineStateName(state));
    else
        m_log.error("tenant {}: WhatsApp line {}: {}", tenantId, lineStateName(state), detail);
    Q_EMIT lineStateChanged(tenantId, state, detail);
}

QJsonObject WhatsAppChannel::stats() const
{
    QJsonObject lines;
    for (auto it = m_lines.cbegin(); it != m_lines.cend(); ++it) {
        lines.insert(it.key(), QJsonObject{{QStringLiteral("state"), QLatin1String(lineStateName(it->state))},
                                           {QStringLiteral("detail"), it->detail},
                                           {QStringLiteral("since"), it->since.toString(Qt::ISODateWithMs)}});
    }
    return QJsonObject{
        {QStringLiteral("webhookPath"), m_config.whatsapp.webhookPath},
        {QStringLiteral("signed"), !m_config.providers.wahaHmacKey.isEmpty()},
        {QStringLiteral("received"), double(m_counters.received)},
        {QStringLiteral("answeredText"), double(m_counters.answeredText)},
        {QStringLiteral("answeredNotText"), double(m_counters.answeredNotText)},
        {QStringLiteral("duplicates"), double(m_counters.duplicates)},
        {QStringLiteral("ignored"), double(m_counters.ignored)},
        {QStringLiteral("unknownTenant"), double(m_counters.unknownTenant)},
        {QStringLiteral("refusedSignature"), double(m_counters.refusedSignature)},
        {QStringLiteral("badRequests"), double(m_counters.badRequests)},
        {QStringLiteral("repliesDelivered"), double(m_counters.delivered)},
        {QStringLiteral("repliesDropped"), double(m_counters.dropped)},
        {QStringLiteral("repliesQueued"), m_outbox->queued()},
        {QStringLiteral("liveChats"), liveChats()},
        {QStringLiteral("tenants"), lines},
    };
}

void WhatsAppChannel::appendMetrics(PrometheusText &out) const
{
    out.family(QStringLiteral("apex_whatsapp_messages_total"), "counter",
               QStringLiteral("WhatsApp webhook events, by what became of them."));
    const std::pair<const char *, std::uint64_t> messages[] = {
        {"text", m_counters.answeredText},        {"not_text", m_counters.answeredNotText},
        {"duplicate", m_counters.duplicates},     {"ignored", m_counters.ignored},
        {"unknown_tenant", m_counters.unknownTenant}, {"bad_signature", m_counters.refusedSignature},
        {"bad_request", m_counters.badRequests},
    };
    for (const auto &[result, count] : messages)
        out.sample(QStringLiteral("apex_whatsapp_messages_total"), double(count), {{QStringLiteral("result"), QLatin1String(result)}});
    out.family(QStringLiteral("apex_whatsapp_replies_total"), "counter", QStringLiteral("WhatsApp replies WAHA took, or that were dropped."));
    out.sample(QStringLiteral("apex_whatsapp_replies_total"), double(m_counters.delivered), {{QStringLiteral("result"), QStringLiteral("delivered")}});
    out.sample(QStringLiteral("apex_whatsapp_replies_total"), double(m_counters.dropped), {{QStringLiteral("result"), QStringLiteral("dropped")}});
    out.family(QStringLiteral("apex_whatsapp_replies_queued"), "gauge", QStringLiteral("Replies waiting for WAHA (its breaker open, or retrying)."));
    out.sample(QStringLiteral("apex_whatsapp_replies_queued"), m_outbox->queued());
    out.family(QStringLiteral("apex_whatsapp_chats_live"), "gauge", QStringLiteral("WhatsApp chats held in memory."));
    out.sample(QStringLiteral("apex_whatsapp_chats_live"), liveChats());
    out.family(QStringLiteral("apex_whatsapp_core_limit"), "gauge",
               QStringLiteral("1 while WAHA Core refuses the tenant's session (HTTP 422: only \"default\")."));
    out.family(QStringLiteral("apex_whatsapp_line_state"), "gauge",
               QStringLiteral("The tenant's WhatsApp line: 1 for its current state."));
    for (const TenantPtr &tenant : m_services.tenants->all()) {
        const LineState state = m_lines.value(tenant->id).state;
        out.sample(QStringLiteral("apex_whatsapp_core_limit"), state == LineState::CoreLimit ? 1 : 0,
                   {{QStringLiteral("tenant"), tenant->id}});
        out.sample(QStringLiteral("apex_whatsapp_line_state"), 1,
                   {{QStringLiteral("tenant"), tenant->id}, {QStringLiteral("state"), QLatin1String(lineStateName(state))}});
    }
}

} // namespace apex::waha
