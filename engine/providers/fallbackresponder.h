#pragma once

#include "llm/responder.h"
#include "observability/logging.h"
#include "providers/aimdlimiter.h"
#include "providers/breakerpass.h"
#include "providers/tenantlimit.h"

#include <QTimer>

#include <memory>

namespace apex {

// What stands between a call and the primary responder, shared by all calls
// on all engine threads. Any part may be absent.
struct ResponderGovernance
{
    std::shared_ptr<CircuitBreaker> breaker;
    AimdLimiter *concurrency = nullptr; // the global LLM limit, learnt from 429s
    TenantLimit *tenantQuota = nullptr; // each tenant's share of it
    // Of the tenant's silence budget, what the first sentence's speech needs
    // after the first word (the TTS first-audio deadline and a margin): the
    // rest, less endpointing, is the first word's deadline.
    int reserveForSpeechMs = 700;
    // Once the reply is speaking, no token for this long ends it (and counts
    // as a failure) before the caller talks over the silence.
    int stallMs = 1000;
};

// A reply the primary cannot give is answered by the fallback responder
// (Groq -> FAQ), with no time paid when the primary is known to be unable: an
// open breaker, the global concurrency limit or the tenant's quota reached.
// The primary's text is held until its first sentence is whole: a failure,
// stall or deadline before that goes to the fallback, and the caller never
// hears a fragment. A failure once speaking ends the reply where it stands
// (the caller heard part of an answer; a second answer or an apology after it
// would be worse).
class FallbackResponder : public Responder
{
    Q_OBJECT
public:
    FallbackResponder(std::unique_ptr<Responder> primary, std::unique_ptr<Responder> fallback,
                      ResponderGovernance governance = {}, int firstWordDeadlineMs = 0, QObject *parent = nullptr);

    void prepareCall(const QString &callId, const QString &tenantId) override;
    void respond(const ResponderRequest &request) override;
    void cancel() override;
    ResponderUsage lastUsage() const override { return m_usedFallback ? m_fallback->lastUsage() : m_primary->lastUsage(); }
    ProviderFailure providerFailure() const override
    {
        return m_usedFallback ? m_fallback->providerFailure() : m_primary->providerFailure();
    }
    bool answeredByFallback() const { return m_usedFallback; }

private:
    QString admitPrimary(); // empty when admitted, else why not
    void giveUpOnPrimary(ProviderFailure failure, const QString &reason, bool cancelPrimary = true);
    void answerFromFallback();
    void stopTimers();
    void settle();

    std::unique_ptr<Responder> m_primary;
    std::unique_ptr<Responder> m_fallback;
    ResponderGovernance m_governance;
    log::CallLogger m_log;
    QString m_tenantId;
    QTimer m_firstWord; // the primary's first sentence, or the fallback answers
    QTimer m_stall;     // the primary's next token once speaking
    QString m_held;     // primary text before its first sentence is whole
    ResponderRequest m_request;
    BreakerPass m_pass;
    AimdLimiter::Permit m_concurrencyPermit;
    TenantLimit::Permit m_tenantPermit;
    bool m_spoken = false; // primary text has gone to the caller
    bool m_rateLimitSeen = false;
    bool m_usedFallback = false;
};

class FallbackResponderFactory : public ResponderFactory
{
public:
    FallbackResponderFactory(ResponderFactory *primary, ResponderFactory *fallback, ResponderGovernance governance = {});
    QString name() const override;
    std::unique_ptr<Responder> create(const Tenant &tenant) override;

private:
    ResponderFactory *m_primary;
    ResponderFactory *m_fallback;
    ResponderGovernance m_governance;
};

} // namespace apex
