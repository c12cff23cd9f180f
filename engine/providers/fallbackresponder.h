#pragma once

#include "llm/responder.h"

#include <memory>

namespace apex {

// A reply that fails before its first word (429 past the deadline, 5xx, a stall
// before the first token) is answered by the fallback responder instead
// (Groq -> FAQ). A failure mid-reply is passed on: the caller already heard part.
class FallbackResponder : public Responder
{
    Q_OBJECT
public:
    FallbackResponder(std::unique_ptr<Responder> primary, std::unique_ptr<Responder> fallback, QObject *parent = nullptr);

    void prepareCall(const QString &callId, const QString &tenantId) override;
    void respond(const ResponderRequest &request) override;
    void cancel() override;
    ResponderUsage lastUsage() const override { return m_usedFallback ? m_fallback->lastUsage() : m_primary->lastUsage(); }

private:
    std::unique_ptr<Responder> m_primary;
    std::unique_ptr<Responder> m_fallback;
    ResponderRequest m_request;
    bool m_textSeen = false;
    bool m_usedFallback = false;
};

class FallbackResponderFactory : public ResponderFactory
{
public:
    FallbackResponderFactory(ResponderFactory *primary, ResponderFactory *fallback);
    QString name() const override;
    std::unique_ptr<Responder> create(const Tenant &tenant) override;

private:
    ResponderFactory *m_primary;
    ResponderFactory *m_fallback;
};

} // namespace apex
