#include "providers/fallbackresponder.h"

#include "observability/logging.h"

namespace apex {

FallbackResponder::FallbackResponder(std::unique_ptr<Responder> primary, std::unique_ptr<Responder> fallback, QObject *parent)
    : Responder(parent)
    , m_primary(std::move(primary))
    , m_fallback(std::move(fallback))
{
    for (Responder *r : {m_primary.get(), m_fallback.get()}) {
        connect(r, &Responder::textDelta, this, [this](const QString &text) {
            m_textSeen = true;
            Q_EMIT textDelta(text);
        });
        connect(r, &Responder::finished, this, &Responder::finished);
    }
    connect(m_primary.get(), &Responder::failed, this, [this](const QString &reason) {
        if (m_textSeen) {
            Q_EMIT failed(reason);
            return;
        }
        log::get("llm")->warn("call=- tenant=- responder failed before its first word ({}); answering from the fallback", reason);
        m_usedFallback = true;
        m_fallback->respond(m_request);
    });
    connect(m_fallback.get(), &Responder::failed, this, &Responder::failed);
}

void FallbackResponder::prepareCall(const QString &callId, const QString &tenantId)
{
    m_primary->prepareCall(callId, tenantId);
    m_fallback->prepareCall(callId, tenantId);
}

void FallbackResponder::respond(const ResponderRequest &request)
{
    m_request = request;
    m_textSeen = false;
    m_usedFallback = false;
    m_primary->respond(request);
}

void FallbackResponder::cancel()
{
    m_primary->cancel();
    m_fallback->cancel();
}

FallbackResponderFactory::FallbackResponderFactory(ResponderFactory *primary, ResponderFactory *fallback)
    : m_primary(primary)
    , m_fallback(fallback)
{
}

QString FallbackResponderFactory::name() const
{
    return m_primary->name() + QStringLiteral("+") + m_fallback->name();
}

std::unique_ptr<Responder> FallbackResponderFactory::create(const Tenant &tenant)
{
    return std::make_unique<FallbackResponder>(m_primary->create(tenant), m_fallback->create(tenant));
}

} // namespace apex
