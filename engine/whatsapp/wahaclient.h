#pragma once

#include "observability/logging.h"
#include "observability/providerfailure.h"

#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>

namespace apex::waha {

// How WAHA answered one request, in the words the outbox acts on.
struct SendOutcome
{
    enum class Kind {
        Delivered,         // 2xx: WAHA took the message
        CoreLimit,         // 422 "WAHA Core support only 'default' session": this session can never send on Core
        SessionNotWorking, // 422 "Session status is not as expected": not scanned, stopped, failed
        Rejected,          // another 4xx: our request is wrong; retrying will not help
        Failed,            // 5xx, 401/403, 429, timeout, connection: WAHA's health, for its breaker
    };
    Kind kind = Kind::Failed;
    ProviderFailure failure; // for Failed
    int httpStatus = 0;
    QString detail; // WAHA's message or the network error: never our key
};

const char *sendOutcomeName(SendOutcome::Kind kind);

// WAHA's REST API as the channel uses it: POST /api/sendText, /api/startTyping
// and /api/stopTyping, each {"session","chatId"[,"text"]} with X-Api-Key.
// Requests go through the calling thread's "waha" HttpClientPool; each has
// its own deadline (aborted and reported as a timeout). Lives on one engine
// thread; callbacks run there, never from inside the call that started them.
class WahaClient : public QObject
{
    Q_OBJECT
public:
    struct Settings
    {
        QUrl baseUrl; // http://waha:3000 (a path prefix is kept)
        QString apiKey; // empty: no X-Api-Key (WAHA without WAHA_API_KEY)
        int timeoutMs = 15000;
    };

    explicit WahaClient(Settings settings, QObject *parent = nullptr);

    using Done = std::function<void(const SendOutcome &)>;
    void sendText(const QString &session, const QString &chatId, const QString &text, Done done);
    void setTyping(const QString &session, const QString &chatId, bool typing, Done done = {});

    // host:port of WAHA: the endpoint half of its breaker key.
    QString endpoint() const;

    // Reads WAHA's answer (status and body) into an outcome.
    static SendOutcome classify(int httpStatus, const QByteArray &body);

private:
    void post(const QString &path, const QJsonObject &json, Done done);

    Settings m_settings;
    log::CallLogger m_log;
};

} // namespace apex::waha
