#include "whatsapp/chatconversation.h"

#include "observability/logescape.h"
#include "store/sessionstore.h"

#include <QPointer>

namespace apex::waha {

namespace {

constexpr char kSessionKind[] = "chat";
// How long the LLM may take to its first sentence before the FAQ answers instead.
constexpr int kChatSilenceBudgetMs = 8000;

} // namespace

ChatConversation::ChatConversation(TenantPtr tenant, QString session, QString chatId, Services services, QObject *parent)
    : QObject(parent)
    , m_tenant(std::move(tenant))
    , m_session(std::move(session))
    , m_chatId(std::move(chatId))
    , m_services(services)
    , m_log("whatsapp", logSafe(m_chatId, 64), m_tenant ? m_tenant->id : QString())
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        m_log.warn("no reply within {} ms; answering with the fallback line", m_services.replyDeadlineMs);
        if (m_responder)
            m_responder->cancel();
        finishReply(m_tenant->fallbackLine, true);
    });
}

ChatConversation::~ChatConversation()
{
    if (m_responder)
        m_responder->cancel();
}

void ChatConversation::receiveText(const QString &text)
{
    while (m_pending.size() >= m_services.maxPendingMessages) {
        m_log.warn("{} messages waiting for a reply: the oldest is dropped", m_pending.size());
        m_pending.removeFirst();
    }
    m_pending.append(Pending{true, text});
    if (!m_busy)
        next();
}

void ChatConversation::receiveNotText()
{
    m_pending.append(Pending{false, {}});
    if (!m_busy)
        next();
}

void ChatConversation::next()
{
    while (!m_busy && !m_pending.isEmpty()) {
        if (!m_pending.first().isText) {
            m_pending.removeFirst();
            m_log.info("not a text message: answering with the media line");
            Q_EMIT replyReady(m_tenant->whatsappMediaReply);
            continue;
        }
        QStringList texts;
        while (!m_pending.isEmpty() && m_pending.first().isText)
            texts << m_pending.takeFirst().text.trimmed();
        startReply(texts.join(QLatin1Char('\n')));
    }
}

void ChatConversation::startReply(const QString &utterance)
{
    m_busy = true;
    m_utterance = utterance;
    m_reply.clear();
    const quint64 generation = ++m_generation;
    Q_EMIT typingChanged(true);
    m_deadline.start(m_services.replyDeadlineMs);
    if (!m_services.sessions) {
        generate();
        return;
    }
    QPointer<ChatConversation> self(this);
    m_services.sessions->load(m_tenant->id, QString::fromLatin1(kSessionKind), m_chatId,
                              [self, generation](std::optional<SessionRecord> record) {
                                  if (!self || self->m_generation != generation || !self->m_busy)
                                      return;
                                  if (record) {
                                      self->m_history.clear();
                                      for (const SessionRecord::Turn &turn : std::as_const(record->turns))
                                          self->m_history.append(ConversationTurn{
                                              turn.role == QLatin1String("agent") ? ConversationTurn::Role::Agent
                                                                                  : ConversationTurn::Role::Caller,
                                              turn.text});
                                      self->m_createdAt = record->createdAt;
                                  }
                                  self->generate();
                              });
}

void ChatConversation::generate()
{
    // Nobody listens to silence in a chat: the silence budget of a call (a
    // first sentence within about half a second, or the FAQ answers) would
    // hand a merely slow LLM's reply to the fallback. The breakers, the
    // concurrency limit and the tenant's quota stay those of the calls.
    Tenant forChat = *m_tenant;
    forChat.silenceBudgetMs = std::max(forChat.silenceBudgetMs, kChatSilenceBudgetMs);
    m_responder = m_services.responders->create(forChat);
    Responder *responder = m_responder.get();
    responder->prepareCall(logSafe(m_chatId, 64), m_tenant->id);
    connect(responder, &Responder::textDelta, this, [this](const QString &text) { m_reply += text; });
    connect(responder, &Responder::finished, this, [this] {
        const QString reply = m_reply.trimmed();
        finishReply(reply.isEmpty() ? m_tenant->fallbackLine : reply, reply.isEmpty());
    });
    connect(responder, &Responder::failed, this, [this](const QString &reason) {
        m_log.warn("no responder could answer ({}): sending the fallback line", logSafe(reason));
        finishReply(m_tenant->fallbackLine, true);
    });
    responder->respond(ResponderRequest{m_tenant->systemPrompt, m_history, m_utterance});
}

void ChatConversation::finishReply(const QString &reply, bool fallbackLine)
{
    if (!m_busy)
        return;
    m_deadline.stop();
    ++m_generation;
    if (m_responder) {
        // Not now: we may be inside one of its signals.
        m_responder->disconnect(this);
        m_responder.release()->deleteLater();
    }
    appendHistory(ConversationTurn::Role::Caller, m_utterance);
    appendHistory(ConversationTurn::Role::Agent, reply);
    saveHistory();
    Q_EMIT typingChanged(false);
    Q_EMIT replyReady(reply);
    Q_EMIT turnCompleted(m_utterance, reply, fallbackLine);
    m_busy = false;
    m_utterance.clear();
    m_reply.clear();
    next();
}

void ChatConversation::appendHistory(ConversationTurn::Role role, const QString &text)
{
    m_history.append(ConversationTurn{role, text});
    const int keep = std::max(1, m_tenant->maxTurnsInContext) * 2;
    while (m_history.size() > keep)
        m_history.removeFirst();
}

void ChatConversation::saveHistory()
{
    if (!m_services.sessions)
        return;
    SessionRecord record;
    record.tenantId = m_tenant->id;
    record.kind = QString::fromLatin1(kSessionKind);
    record.id = m_chatId;
    record.createdAt = m_createdAt;
    record.updatedAt = QDateTime::currentDateTimeUtc();
    for (const ConversationTurn &turn : std::as_const(m_history))
        record.turns.append({turn.role == ConversationTurn::Role::Caller ? QStringLiteral("caller") : QStringLiteral("agent"),
                             turn.text});
    // A failed save (Redis down) leaves the chat running on its in-memory copy.
    m_services.sessions->save(record);
}

} // namespace apex::waha
