#pragma once

#include "llm/faq/faqindex.h"
#include "llm/responder.h"

#include <QHash>
#include <QMutex>
#include <QStringList>
#include <QTimer>

#include <memory>

namespace apex {

// The offline "LLM": answers from the tenant's FAQ, handles greetings and
// goodbyes, and says the tenant's fallback line for anything else. It streams
// like a network model (a few word groups, each from its own event-loop turn)
// so the pipeline treats every responder the same, and never emits from inside
// respond(): callers may connect after calling it.
class FaqResponder : public Responder
{
    Q_OBJECT
public:
    FaqResponder(std::shared_ptr<const FaqIndex> index, const Tenant &tenant, QObject *parent = nullptr);

    void respond(const ResponderRequest &request) override;
    void cancel() override;

    // The whole reply respond() would stream for this utterance; no signals.
    QString replyFor(const QString &utterance) const;

    static constexpr int wordsPerDelta = 4;

private:
    void emitNext();

    std::shared_ptr<const FaqIndex> m_index;
    QString m_tenantId;
    QString m_language;
    QString m_fallbackLine;
    QStringList m_pending; // pieces still to emit for the current request
    quint64 m_generation = 0; // bumped by respond(), cancel() and finishing
    QTimer m_pump;
};

// Registered under "faq". Builds one FaqIndex per tenant and shares it between
// all calls of that tenant; an edited FAQ gets a fresh index, calls already
// running keep the one they started with. create() may be called from any engine thread.
class FaqResponderFactory : public ResponderFactory
{
public:
    QString name() const override { return QStringLiteral("faq"); }
    std::unique_ptr<Responder> create(const Tenant &tenant) override;

    std::shared_ptr<const FaqIndex> indexFor(const Tenant &tenant);

private:
    struct CachedIndex
    {
        QByteArray fingerprint;
        std::shared_ptr<const FaqIndex> index;
    };

    QMutex m_mutex;
    QHash<QString, CachedIndex> m_indexes; // by tenant id
};

} // namespace apex
