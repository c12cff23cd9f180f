#include "whatsapp/wahaoutbox.h"

#include "observability/logescape.h"
#include "providers/breakerpass.h"

#include <algorithm>

namespace apex::waha {

namespace {

// A chat's lines carry its id and tenant, as a call's do.
log::CallLogger lineLog(const OutgoingText &message)
{
    return log::CallLogger("whatsapp", logSafe(message.chatId, 64), message.tenantId);
}

} // namespace

WahaOutbox::WahaOutbox(WahaClient *client, std::shared_ptr<CircuitBreaker> breaker, Settings settings, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_breaker(std::move(breaker))
    , m_settings(settings)
{
    m_clock.start();
    m_wake.setSingleShot(true);
    connect(&m_wake, &QTimer::timeout, this, &WahaOutbox::pump);
}

void WahaOutbox::enqueue(OutgoingText message)
{
    message.queuedAtMs = nowMs();
    while (qsizetype(m_queue.size()) >= m_settings.capacity) {
        // The oldest waiting one goes: it is the stalest answer.
        auto it = std::find_if(m_queue.begin(), m_queue.end(), [](const Entry &e) { return !e.sending; });
        if (it == m_queue.end())
            break;
        SendOutcome outcome;
        outcome.detail = QStringLiteral("the outbox is full (%1 replies waiting for WAHA)").arg(m_settings.capacity);
        const OutgoingText lost = it->message;
        m_queue.erase(it);
        lineLog(lost).warn("reply dropped: {}", outcome.detail);
        Q_EMIT dropped(lost, outcome);
    }
    m_queue.push_back(Entry{m_nextSerial++, std::move(message), false});
    schedule(0);
}

void WahaOutbox::setTyping(const QString &session, const QString &chatId, bool typing)
{
    if (m_breaker && m_breaker->state() != BreakerState::Closed)
        return;
    m_client->setTyping(session, chatId, typing);
}

void WahaOutbox::schedule(qint64 delayMs)
{
    delayMs = std::max<qint64>(0, delayMs);
    if (m_wake.isActive() && m_wake.remainingTime() <= delayMs)
        return;
    m_wake.start(int(std::min<qint64>(delayMs, 24LL * 3600 * 1000)));
}

void WahaOutbox::pump()
{
    const qint64 now = nowMs();
    for (auto it = m_queue.begin(); it != m_queue.end();) {
        if (!it->sending && now - it->message.queuedAtMs > m_settings.maxAgeMs) {
            SendOutcome outcome;
            outcome.detail = QStringLiteral("not delivered within %1 s (%2 attempts)")
                                 .arg(m_settings.maxAgeMs / 1000)
                                 .arg(it->message.attempts);
            const OutgoingText lost = it->message;
            it = m_queue.erase(it);
            lineLog(lost).warn("reply dropped: {}", outcome.detail);
            Q_EMIT dropped(lost, outcome);
            continue;
        }
        ++it;
    }
    if (m_queue.empty() || m_probeOut)
        return;
    // The backoff spaces retries while the breaker is still closed; once it
    // is open, its cool-down alone decides when the next attempt goes.
    if (now < m_notBeforeMs && (!m_breaker || m_breaker->state() == BreakerState::Closed)) {
        schedule(m_notBeforeMs - now);
        return;
    }
    for (qsizetype i = 0; i < qsizetype(m_queue.size()) && m_inFlight < m_settings.concurrency; ++i) {
        Entry &entry = m_queue[size_t(i)];
        if (entry.sending || m_busyChats.contains(chatKey(entry.message)))
            continue;
        BreakerPass pass(m_breaker);
        if (pass.refused()) {
            // Open: wait for the cool-down to end, then the head goes as the probe.
            const BreakerSnapshot snapshot = m_breaker->snapshot();
            qint64 waitMs = 1000;
            if (snapshot.nextProbeAt) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*snapshot.nextProbeAt - CircuitBreaker::Clock::now());
                waitMs = std::max<qint64>(1, left.count() + 1);
            }
            schedule(waitMs);
            return;
        }
        const bool probe = pass.isProbe();
        send(i, std::move(pass));
        if (probe) {
            m_probeOut = true;
            return;
        }
    }
}

void WahaOutbox::send(qsizetype index, BreakerPass pass)
{
    Entry &entry = m_queue[size_t(index)];
    entry.sending = true;
    ++entry.message.attempts;
    ++m_inFlight;
    m_busyChats.insert(chatKey(entry.message));
    const quint64 serial = entry.serial;
    auto shared = std::make_shared<BreakerPass>(std::move(pass));
    m_client->sendText(entry.message.session, entry.message.chatId, entry.message.text,
                       [this, serial, shared](const SendOutcome &outcome) { onOutcome(serial, *shared, outcome); });
}

void WahaOutbox::onOutcome(quint64 serial, BreakerPass &pass, const SendOutcome &outcome)
{
    --m_inFlight;
    const bool wasProbe = pass.isProbe();
    if (wasProbe)
        m_probeOut = false;
    auto it = std::find_if(m_queue.begin(), m_queue.end(), [serial](const Entry &e) { return e.serial == serial; });
    if (it == m_queue.end()) {
        pass.abandoned();
        schedule(0);
        return;
    }
    m_busyChats.remove(chatKey(it->message));
    it->sending = false;
    if (outcome.kind == SendOutcome::Kind::Failed) {
        const BreakerState state = pass.failed(outcome.failure, outcome.detail);
        m_retryDelayMs = m_retryDelayMs == 0 ? m_settings.retryInitialMs : std::min(m_retryDelayMs * 2, m_settings.retryMaxMs);
        m_notBeforeMs = nowMs() + m_retryDelayMs;
        lineLog(it->message).warn("WAHA sendText failed (attempt {}): {}{}; {} replies waiting, breaker {}", it->message.attempts,
                   failureKindName(outcome.failure.kind),
                   outcome.detail.isEmpty() ? QString() : QStringLiteral(" (") + outcome.detail + QLatin1Char(')'),
                   m_queue.size(), breakerStateName(state));
        schedule(state == BreakerState::Closed ? m_retryDelayMs : 0);
        return;
    }
    // WAHA answered: whatever it said, it is up.
    pass.succeeded();
    m_retryDelayMs = 0;
    m_notBeforeMs = 0;
    const OutgoingText message = it->message;
    m_queue.erase(it);
    if (outcome.kind == SendOutcome::Kind::Delivered) {
        if (message.attempts > 1)
            lineLog(message).info("reply delivered after {} attempts", message.attempts);
        Q_EMIT delivered(message);
    } else {
        lineLog(message).warn("WAHA refused the reply ({}, HTTP {}): {}", sendOutcomeName(outcome.kind), outcome.httpStatus,
                              outcome.detail);
        Q_EMIT dropped(message, outcome);
    }
    schedule(0);
}

} // namespace apex::waha
