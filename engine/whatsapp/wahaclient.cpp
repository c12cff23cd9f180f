#include "whatsapp/wahaclient.h"

#include "httpclient/httpclientpool.h"
#include "observability/logescape.h"

#include <QJsonDocument>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QTimer>

namespace apex::waha {

namespace {

// WAHA's error bodies are one short JSON object; more is not worth a log line.
constexpr qsizetype kDetailChars = 300;

QString messageOf(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    for (const char *key : {"message", "error"}) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isString() && !v.toString().isEmpty())
            return logSafe(v.toString(), kDetailChars);
    }
    return logSafe(QString::fromUtf8(body.left(kDetailChars)), kDetailChars);
}

} // namespace

const char *sendOutcomeName(SendOutcome::Kind kind)
{
    switch (kind) {
    case SendOutcome::Kind::Delivered: return "delivered";
    case SendOutcome::Kind::CoreLimit: return "core-limit";
    case SendOutcome::Kind::SessionNotWorking: return "session-not-working";
    case SendOutcome::Kind::Rejected: return "rejected";
    case SendOutcome::Kind::Failed: return "failed";
    }
    return "unknown";
}

WahaClient::WahaClient(Settings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_log("whatsapp")
{
}

QString WahaClient::endpoint() const
{
    const QUrl &u = m_settings.baseUrl;
    return QStringLiteral("%1:%2").arg(u.host()).arg(u.port(u.scheme() == QLatin1String("https") ? 443 : 80));
}

SendOutcome WahaClient::classify(int httpStatus, const QByteArray &body)
{
    SendOutcome out;
    out.httpStatus = httpStatus;
    if (httpStatus >= 200 && httpStatus < 300) {
        out.kind = SendOutcome::Kind::Delivered;
        return out;
    }
    out.detail = messageOf(body);
    if (httpStatus == 422) {
        // Two different 422s (protocols.md §6): Core refusing any session but
        // "default" (before 2026.6.1), and a session that is not WORKING.
        const QString text = QString::fromUtf8(body);
        if (text.contains(QLatin1String("only 'default' session"), Qt::CaseInsensitive)
            || text.contains(QLatin1String("WAHA PLUS"), Qt::CaseInsensitive))
            out.kind = SendOutcome::Kind::CoreLimit;
        else if (text.contains(QLatin1String("status is not as expected"), Qt::CaseInsensitive))
            out.kind = SendOutcome::Kind::SessionNotWorking;
        else
            out.kind = SendOutcome::Kind::Rejected;
        return out;
    }
    if (httpStatus >= 500 || httpStatus == 401 || httpStatus == 403 || httpStatus == 429) {
        out.kind = SendOutcome::Kind::Failed;
        out.failure = ProviderFailure{failureKindForHttpStatus(httpStatus), httpStatus};
        return out;
    }
    out.kind = SendOutcome::Kind::Rejected;
    return out;
}

void WahaClient::sendText(const QString &session, const QString &chatId, const QString &text, Done done)
{
    post(QStringLiteral("/api/sendText"),
         QJsonObject{{QStringLiteral("session"), session}, {QStringLiteral("chatId"), chatId}, {QStringLiteral("text"), text}},
         std::move(done));
}

void WahaClient::setTyping(const QString &session, const QString &chatId, bool typing, Done done)
{
    post(typing ? QStringLiteral("/api/startTyping") : QStringLiteral("/api/stopTyping"),
         QJsonObject{{QStringLiteral("session"), session}, {QStringLiteral("chatId"), chatId}}, std::move(done));
}

void WahaClient::post(const QString &path, const QJsonObject &json, Done done)
{
    QUrl url = m_settings.baseUrl;
    QString base = url.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader(QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    if (!m_settings.apiKey.isEmpty())
        request.setRawHeader(QByteArrayLiteral("X-Api-Key"), m_settings.apiKey.toUtf8());

    QNetworkReply *reply = HttpClientPool::forThread(QStringLiteral("waha"))->post(request, QJsonDocument(json).toJson(QJsonDocument::Compact));
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    auto timedOut = std::make_shared<bool>(false);
    connect(deadline, &QTimer::timeout, reply, [reply, timedOut] {
        *timedOut = true;
        reply->abort();
    });
    deadline->start(m_settings.timeoutMs);
    connect(reply, &QNetworkReply::finished, this, [this, reply, timedOut, done = std::move(done)] {
        reply->deleteLater();
        const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        SendOutcome outcome;
        if (*timedOut) {
            outcome.kind = SendOutcome::Kind::Failed;
            outcome.failure = ProviderFailure{FailureKind::Timeout};
            outcome.detail = QStringLiteral("no answer within %1 ms").arg(m_settings.timeoutMs);
        } else if (!status.isValid()) {
            outcome.kind = SendOutcome::Kind::Failed;
            outcome.failure = ProviderFailure{FailureKind::Connect};
            outcome.detail = logSafe(reply->errorString(), kDetailChars);
        } else {
            outcome = classify(status.toInt(), reply->readAll());
        }
        if (done)
            done(outcome);
    });
}

} // namespace apex::waha
