#pragma once

#include "observability/providerfailure.h"

#include <QList>
#include <QObject>
#include <QString>
#include <memory>

namespace apex {

struct Tenant;

struct ConversationTurn
{
    enum class Role { Caller, Agent };
    Role role = Role::Caller;
    QString text;

    bool operator==(const ConversationTurn &) const = default;
};

struct ResponderRequest
{
    QString systemPrompt;
    QList<ConversationTurn> history; // oldest first, at most the tenant's context size
    QString utterance;
};

// What the last reply cost, where the responder knows it (an LLM does, the FAQ
// responder does not: -1).
struct ResponderUsage
{
    int promptTokens = -1;
    int completionTokens = -1;
    double tokensPerSecond = -1;
};

// Produces the agent's reply to one utterance as a stream of text pieces. One
// per call, living on the call's thread; respond() again only after finished,
// failed or cancel().
class Responder : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~Responder() override = default;

    // The call has started: open connections now so the first reply does not
    // pay for them (a TLS handshake to a cloud LLM is tens of milliseconds).
    // The ids go on the responder's log lines.
    virtual void prepareCall(const QString &callId, const QString &tenantId)
    {
        Q_UNUSED(callId);
        Q_UNUSED(tenantId);
    }
    virtual void respond(const ResponderRequest &request) = 0;
    // Valid after finished().
    virtual ResponderUsage lastUsage() const { return {}; }
    // Why the last request failed, in words governance understands; valid
    // after failed().
    virtual ProviderFailure providerFailure() const { return {}; }
    // Barge-in or hang-up: no further signal for the current request.
    virtual void cancel() = 0;

Q_SIGNALS:
    void textDelta(const QString &text); // spoken content only, in order
    void finished();
    void failed(const QString &reason);
    // The request left for the provider (monotonic clock): what came before
    // it was our own queue or connection set-up, and the trace shows it apart.
    void requestSent(qint64 monotonicNs);
    // The provider answered 429 (it may still retry): for the concurrency
    // limit, and to stop waiting when the retry cannot land in time.
    void rateLimited(qint64 retryAfterMs);
};

class ResponderFactory
{
public:
    virtual ~ResponderFactory() = default;
    virtual QString name() const = 0;
    virtual std::unique_ptr<Responder> create(const Tenant &tenant) = 0;
};

} // namespace apex
