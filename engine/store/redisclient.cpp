#include "store/redisclient.h"

#include "observability/clock.h"
#include "observability/logging.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <QHostAddress>
#include <QSocketNotifier>
#include <QTimer>

#include <algorithm>
#include <cctype>
#include <deque>
#include <utility>
#include <vector>

namespace apex {

namespace {

RedisReply copyReply(const redisReply *r)
{
    RedisReply out;
    switch (r->type) {
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(copyReply(r->element[i]));
        break;
    case REDIS_REPLY_NIL:
    default:
        out.type = RedisReply::Type::Nil;
        break;
    }
    return out;
}

RedisReply disconnectedReply(const QByteArray &why)
{
    RedisReply reply;
    reply.type = RedisReply::Type::Disconnected;
    reply.string = why;
    return reply;
}

RedisReply errorReply(const char *message)
{
    RedisReply reply;
    reply.type = RedisReply::Type::Error;
    reply.string = message;
    return reply;
}

// %XX becomes the byte; a '%' not followed by two hex digits stays literal, so
// a raw password containing '%' survives (QUrl would mangle it).
QString decodePercent(const QString &text)
{
    const QByteArray in = text.toUtf8();
    QByteArray out;
    out.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        if (in.at(i) == '%' && i + 2 < in.size() && std::isxdigit(uchar(in.at(i + 1))) && std::isxdigit(uchar(in.at(i + 2)))) {
            out.append(char(QByteArray::fromHex(in.mid(i + 1, 2)).at(0)));
            i += 2;
        } else {
            out.append(in.at(i));
        }
    }
    return QString::fromUtf8(out);
}

bool isPushCommand(const QByteArray &name)
{
    static const char *const refused[] = {"subscribe", "psubscribe", "unsubscribe", "punsubscribe", "monitor"};
    const QByteArray lower = name.toLower();
    return std::any_of(std::begin(refused), std::end(refused), [&](const char *r) { return lower == r; });
}

} // namespace

QString RedisClient::Endpoint::displayName() const
{
    const QString h = host.contains(QLatin1Char(':')) ? QStringLiteral("[%1]").arg(host) : host;
    return QStringLiteral("%1:%2/%3").arg(h).arg(port).arg(db);
}

struct RedisClient::Private
{
    // One hiredis context and the notifiers that drive it. It lives exactly as
    // long as the context: hiredis' cleanup hook (run on every path that frees a
    // context) deletes it, so callbacks find it through ac->data until the end.
    struct Connection
    {
        redisAsyncContext *ac = nullptr;
        Private *d = nullptr; // null once the client is destroyed: callbacks are dropped
        QSocketNotifier *reader = nullptr;
        QSocketNotifier *writer = nullptr;
        bool closing = false;

        void removeNotifiers()
        {
            // Disabled first so the dispatcher forgets the fd before hiredis closes
            // it; deleted later because we may be inside the notifier's own signal.
            for (QSocketNotifier *n : {std::exchange(reader, nullptr), std::exchange(writer, nullptr)}) {
                if (n) {
                    n->setEnabled(false);
                    n->deleteLater();
                }
            }
        }
    };

    // The privdata of one command: freed after its single callback.
    struct Request
    {
        Callback callback;
    };

    RedisClient *q = nullptr;
    Settings settings;
    Endpoint endpoint;
    bool endpointValid = false;
    QString lastError;
    State state = State::Disconnected;
    bool started = false;
    Connection *connection = nullptr;
    quint64 attempt = 0;
    QString abortReason;
    int failureStreak = 0;
    QString warnedReason;
    int backoffMs = 0;
    // Children of the client, so moveToThread() takes them along.
    QTimer *reconnectTimer = nullptr;
    QTimer *connectTimer = nullptr;
    QTimer *replyWatchdog = nullptr;
    // When each command still waiting on the current connection was sent, in
    // send order: replies come back in that order, so the front is the oldest.
    std::deque<qint64> sentAtMs;
    std::shared_ptr<spdlog::logger> log = apex::log::get("redis");

    void setState(State next)
    {
        if (next == state)
            return;
        state = next;
        // Queued so no user code runs inside a hiredis call chain from here.
        QMetaObject::invokeMethod(q, [q = q, next] { Q_EMIT q->stateChanged(next); }, Qt::QueuedConnection);
    }

    void answerLater(Callback callback, RedisReply reply)
    {
        if (!callback)
            return;
        QMetaObject::invokeMethod(
            q, [callback = std::move(callback), reply = std::move(reply)] { callback(reply); }, Qt::QueuedConnection);
    }

    // --- event-loop adapter (ac->ev hooks) ---------------------------------

    static void addRead(void *privdata)
    {
        auto *c = static_cast<Connection *>(privdata);
        if (c->closing)
            return;
        if (!c->reader) {
            c->reader = new QSocketNotifier(c->ac->c.fd, QSocketNotifier::Read);
            QObject::connect(c->reader, &QSocketNotifier::activated, c->reader,
                             [ac = c->ac] { redisAsyncHandleRead(ac); });
        }
        c->reader->setEnabled(true);
    }
    static void delRead(void *privdata)
    {
        auto *c = static_cast<Connection *>(privdata);
        if (c->reader)
            c->reader->setEnabled(false);
    }
    static void addWrite(void *privdata)
    {
        auto *c = static_cast<Connection *>(privdata);
        if (c->closing)
            return;
        if (!c->writer) {
            c->writer = new QSocketNotifier(c->ac->c.fd, QSocketNotifier::Write);
            QObject::connect(c->writer, &QSocketNotifier::activated, c->writer,
                             [ac = c->ac] { redisAsyncHandleWrite(ac); });
        }
        c->writer->setEnabled(true);
    }
    static void delWrite(void *privdata)
    {
        auto *c = static_cast<Connection *>(privdata);
        if (c->writer)
            c->writer->setEnabled(false);
    }
    // Called by hiredis on every path that frees the context (error, connect
    // failure, redisAsyncFree), after the pending callbacks got their NULL reply
    // and before the context's memory goes.
    static void cleanup(void *privdata)
    {
        auto *c = static_cast<Connection *>(privdata);
        redisAsyncContext *ac = c->ac;
        const QString hiredisError = ac->err ? QString::fromLocal8Bit(ac->errstr) : QString();
        ac->data = nullptr;
        ac->ev = {};
        c->removeNotifiers();
        Private *d = c->d;
        delete c;
        if (d)
            d->contextGone(hiredisError);
    }

    static void onReply(redisAsyncContext *ac, void *r, void *privdata)
    {
        std::unique_ptr<Request> request(static_cast<Request *>(privdata));
        auto *c = static_cast<Connection *>(ac->data);
        if (!c || !c->d)
            return;
        Private *d = c->d;
        if (!d->sentAtMs.empty())
            d->sentAtMs.pop_front();
        // On a NULL reply the reason is known now, before cleanup(): callbacks
        // that look at lastError() see why their command failed.
        if (!r && d->abortReason.isEmpty() && ac->err)
            d->lastError = QString::fromLocal8Bit(ac->errstr);
        if (!request->callback)
            return;
        const RedisReply reply = r ? copyReply(static_cast<const redisReply *>(r))
                                   : disconnectedReply(QByteArray("connection lost: ") + d->lastError.toUtf8());
        // May destroy the client: hiredis then defers the free until we return.
        request->callback(reply);
    }

    // --- connection lifecycle ----------------------------------------------

    // On failure `callback` is left with the caller, to answer it another way.
    bool send(const QList<QByteArray> &argv, Callback &callback)
    {
        std::vector<const char *> args;
        std::vector<size_t> lengths;
        args.reserve(size_t(argv.size()));
        lengths.reserve(size_t(argv.size()));
        for (const QByteArray &a : argv) {
            args.push_back(a.constData());
            lengths.push_back(size_t(a.size()));
        }
        auto request = std::make_unique<Request>(Request{std::move(callback)});
        if (redisAsyncCommandArgv(connection->ac, &Private::onReply, request.get(), int(args.size()), args.data(),
                                  lengths.data())
            != REDIS_OK) {
            callback = std::move(request->callback);
            return false;
        }
        request.release(); // owned by hiredis' callback list until onReply
        sentAtMs.push_back(nowMs());
        if (settings.commandTimeoutMs > 0 && !replyWatchdog->isActive())
            replyWatchdog->start(settings.commandTimeoutMs);
        return true;
    }

    void attemptConnect()
    {
        if (connection || !endpointValid)
            return;
        ++attempt;
        abortReason.clear();
        const QByteArray host = endpoint.host.toLatin1();
        redisAsyncContext *ac = redisAsyncConnect(host.constData(), endpoint.port);
        if (!ac || ac->err) {
            // No hooks are attached yet, so freeing here runs no callback of ours.
            const QString reason = ac ? QString::fromLocal8Bit(ac->errstr) : QStringLiteral("out of memory");
            if (ac)
                redisAsyncFree(ac);
            attemptFailed(reason);
            return;
        }
        // Without keepalive a silently dead peer (NAT, cable) would hold the
        // connection "up" until the next command stalls.
        redisEnableKeepAlive(&ac->c);
        connection = new Connection;
        connection->ac = ac;
        connection->d = this;
        ac->data = connection;
        ac->ev.data = connection;
        ac->ev.addRead = &Private::addRead;
        ac->ev.delRead = &Private::delRead;
        ac->ev.addWrite = &Private::addWrite;
        ac->ev.delWrite = &Private::delWrite;
        ac->ev.cleanup = &Private::cleanup;
        connectTimer->start(settings.connectTimeoutMs);
        sendHandshake();
        setState(State::Connecting);
    }

    // AUTH and SELECT must precede everything else on a new connection; PING
    // proves the server answers. The connection counts as up only after all.
    void sendHandshake()
    {
        const quint64 id = attempt;
        auto step = [this, id](const char *what, bool last) {
            return [this, id, what, last](const RedisReply &reply) { handshakeReply(id, what, last, reply); };
        };
        if (!endpoint.password.isEmpty()) {
            QList<QByteArray> auth{QByteArrayLiteral("AUTH")};
            if (!endpoint.username.isEmpty())
                auth.append(endpoint.username.toUtf8());
            auth.append(endpoint.password.toUtf8());
            Callback onAuth = step("authentication failed", false);
            send(auth, onAuth);
        }
        if (endpoint.db != 0) {
            Callback onSelect = step("SELECT failed", false);
            send({QByteArrayLiteral("SELECT"), QByteArray::number(endpoint.db)}, onSelect);
        }
        Callback onPing = step("handshake failed", true);
        send({QByteArrayLiteral("PING")}, onPing);
    }

    void handshakeReply(quint64 id, const char *what, bool last, const RedisReply &reply)
    {
        if (id != attempt || !connection)
            return;
        if (reply.type == RedisReply::Type::Disconnected)
            return; // cleanup reports the reason
        if (reply.type == RedisReply::Type::Error) {
            QString reason = QStringLiteral("%1: %2").arg(QLatin1String(what), QString::fromUtf8(reply.string));
            if (reply.string.startsWith("NOAUTH"))
                reason = QStringLiteral("the server requires a password: %1").arg(QString::fromUtf8(reply.string));
            abort(reason);
            return;
        }
        if (!last)
            return;
        connectTimer->stop();
        backoffMs = settings.reconnectInitialMs;
        failureStreak = 0;
        lastError.clear();
        log->info("connected to {}", endpoint.displayName());
        setState(State::Connected);
    }

    static qint64 nowMs() { return monotonicNowNs() / 1'000'000; }

    void checkReplyAge()
    {
        if (!connection || sentAtMs.empty())
            return;
        const qint64 age = nowMs() - sentAtMs.front();
        if (age < settings.commandTimeoutMs) {
            replyWatchdog->start(int(settings.commandTimeoutMs - age));
            return;
        }
        abort(QStringLiteral("no reply within %1 ms").arg(settings.commandTimeoutMs));
    }

    // Drops the current context; cleanup() then schedules the next attempt.
    void abort(const QString &reason)
    {
        if (!connection)
            return;
        abortReason = reason;
        lastError = reason;
        // Inside a reply callback hiredis defers the free until the callback
        // returns; pending commands then get their NULL (Disconnected) reply.
        redisAsyncFree(connection->ac);
    }

    void contextGone(const QString &hiredisError)
    {
        connection = nullptr;
        connectTimer->stop();
        replyWatchdog->stop();
        sentAtMs.clear();
        const QString reason = !abortReason.isEmpty() ? abortReason
                             : !hiredisError.isEmpty() ? hiredisError
                                                       : QStringLiteral("connection closed");
        abortReason.clear();
        if (state == State::Connected) {
            log->warn("lost connection to {}: {}; reconnecting", endpoint.displayName(), reason);
            lastError = reason;
            scheduleReconnect();
            setState(State::Disconnected);
            return;
        }
        attemptFailed(reason);
    }

    void attemptFailed(const QString &reason)
    {
        // One warning per outage (or per new reason); the retries in between are debug.
        if (failureStreak++ == 0 || reason != warnedReason) {
            warnedReason = reason;
            log->warn("cannot connect to {}: {}; retrying every {}..{} ms", endpoint.displayName(), reason,
                      settings.reconnectInitialMs, settings.reconnectMaxMs);
        } else {
            log->debug("connect attempt {} to {} failed: {}", failureStreak, endpoint.displayName(), reason);
        }
        lastError = reason;
        scheduleReconnect();
        setState(State::Disconnected);
    }

    void scheduleReconnect()
    {
        reconnectTimer->start(backoffMs);
        backoffMs = std::min(backoffMs * 2, settings.reconnectMaxMs);
    }

    void shutdown()
    {
        reconnectTimer->stop();
        connectTimer->stop();
        replyWatchdog->stop();
        if (Connection *c = std::exchange(connection, nullptr)) {
            c->d = nullptr;
            c->removeNotifiers();
            c->closing = true;
            // Frees now, or (inside a reply callback) as soon as it returns; the
            // remaining callbacks find c->d == nullptr and are dropped.
            redisAsyncFree(c->ac);
        }
    }
};

RedisClient::RedisClient(Settings settings, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    settings.reconnectInitialMs = std::max(1, settings.reconnectInitialMs);
    settings.reconnectMaxMs = std::max(settings.reconnectInitialMs, settings.reconnectMaxMs);
    settings.connectTimeoutMs = std::max(1, settings.connectTimeoutMs);
    settings.commandTimeoutMs = std::max(0, settings.commandTimeoutMs);
    settings.maxPendingCommands = std::max(1, settings.maxPendingCommands);
    d->settings = std::move(settings);
    d->backoffMs = d->settings.reconnectInitialMs;
    QString error;
    d->endpointValid = parseUrl(d->settings.url, &d->endpoint, &error);
    if (!d->endpointValid)
        d->lastError = QStringLiteral("invalid Redis URL: %1").arg(error);

    d->reconnectTimer = new QTimer(this);
    d->connectTimer = new QTimer(this);
    d->replyWatchdog = new QTimer(this);
    d->replyWatchdog->setSingleShot(true);
    QObject::connect(d->replyWatchdog, &QTimer::timeout, this, [this] { d->checkReplyAge(); });
    d->reconnectTimer->setSingleShot(true);
    d->connectTimer->setSingleShot(true);
    QObject::connect(d->reconnectTimer, &QTimer::timeout, this, [this] { d->attemptConnect(); });
    QObject::connect(d->connectTimer, &QTimer::timeout, this, [this] {
        d->abort(QStringLiteral("no answer within %1 ms").arg(d->settings.connectTimeoutMs));
    });
}

RedisClient::~RedisClient()
{
    d->shutdown();
}

void RedisClient::start()
{
    if (d->started)
        return;
    d->started = true;
    if (!d->endpointValid) {
        d->log->error("{}; Redis stays disconnected", d->lastError);
        return;
    }
    d->log->info("connecting to {}", d->endpoint.displayName());
    d->attemptConnect();
}

RedisClient::State RedisClient::state() const
{
    return d->state;
}

QString RedisClient::lastError() const
{
    return d->lastError;
}

void RedisClient::command(const QList<QByteArray> &argv, Callback callback)
{
    if (argv.isEmpty()) {
        d->answerLater(std::move(callback), errorReply("ERR empty command"));
        return;
    }
    if (isPushCommand(argv.first())) {
        d->answerLater(std::move(callback),
                       errorReply("ERR pub/sub and MONITOR need a dedicated connection, not RedisClient::command"));
        return;
    }
    if (d->state != State::Connected || !d->connection) {
        d->answerLater(std::move(callback), disconnectedReply("not connected to Redis"));
        return;
    }
    if (qsizetype(d->sentAtMs.size()) >= d->settings.maxPendingCommands) {
        d->answerLater(std::move(callback), errorReply("ERR too many commands waiting for Redis; refused locally"));
        return;
    }
    // hiredis refuses new commands while a context is being torn down.
    if (!d->send(argv, callback))
        d->answerLater(std::move(callback), disconnectedReply("connection lost"));
}

bool RedisClient::parseUrl(const QString &url, Endpoint *endpoint, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const QString form = QStringLiteral("expected redis://[[user]:password@]host[:port][/db]");
    const QString text = url.trimmed();
    if (text.startsWith(QLatin1String("rediss://"), Qt::CaseInsensitive))
        return fail(QStringLiteral("TLS (rediss://) is not supported by the hiredis of this platform"));
    if (!text.startsWith(QLatin1String("redis://"), Qt::CaseInsensitive))
        return fail(form);

    Endpoint out;
    QString rest = text.mid(8);
    // The host part never holds '@', so the last one ends the credentials
    // whatever characters the password contains.
    const qsizetype at = rest.lastIndexOf(QLatin1Char('@'));
    if (at >= 0) {
        const QString userInfo = rest.left(at);
        rest = rest.mid(at + 1);
        const qsizetype colon = userInfo.indexOf(QLatin1Char(':'));
        if (colon >= 0) {
            out.username = decodePercent(userInfo.left(colon));
            out.password = decodePercent(userInfo.mid(colon + 1));
        } else {
            out.password = decodePercent(userInfo);
        }
        if (out.password.isEmpty())
            return fail(QStringLiteral("empty password in the user info"));
    }
    if (rest.contains(QLatin1Char('?')) || rest.contains(QLatin1Char('#')))
        return fail(QStringLiteral("query and fragment are not supported; %1").arg(form));

    const qsizetype slash = rest.indexOf(QLatin1Char('/'));
    const QString hostPort = slash < 0 ? rest : rest.left(slash);
    const QString dbText = slash < 0 ? QString() : rest.mid(slash + 1);

    QString host;
    QString portText;
    if (hostPort.startsWith(QLatin1Char('['))) {
        const qsizetype close = hostPort.indexOf(QLatin1Char(']'));
        if (close < 0)
            return fail(QStringLiteral("unterminated [IPv6] host"));
        host = hostPort.mid(1, close - 1);
        const QString after = hostPort.mid(close + 1);
        if (!after.isEmpty()) {
            if (!after.startsWith(QLatin1Char(':')))
                return fail(QStringLiteral("unexpected text after [IPv6] host"));
            portText = after.mid(1);
        }
    } else {
        if (hostPort.count(QLatin1Char(':')) > 1)
            return fail(QStringLiteral("IPv6 hosts need brackets: redis://[::1]:6379"));
        const qsizetype colon = hostPort.indexOf(QLatin1Char(':'));
        host = colon < 0 ? hostPort : hostPort.left(colon);
        if (colon >= 0)
            portText = hostPort.mid(colon + 1);
    }
    if (host.isEmpty())
        return fail(QStringLiteral("missing host; %1").arg(form));
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0) {
        out.host = QStringLiteral("127.0.0.1");
    } else {
        QHostAddress address;
        if (!address.setAddress(host))
            return fail(QStringLiteral("host \"%1\" must be an IP address or localhost: resolving a name would block "
                                       "the engine thread")
                            .arg(host));
        out.host = address.toString();
    }
    if (!portText.isNull()) {
        bool ok = false;
        const uint port = portText.toUInt(&ok);
        if (!ok || port == 0 || port > 65535 || !std::all_of(portText.begin(), portText.end(), [](QChar c) { return c.isDigit(); }))
            return fail(QStringLiteral("port must be 1..65535"));
        out.port = quint16(port);
    }
    if (!dbText.isEmpty()) {
        bool ok = false;
        const int db = dbText.toInt(&ok);
        if (!ok || db < 0 || !std::all_of(dbText.begin(), dbText.end(), [](QChar c) { return c.isDigit(); }))
            return fail(QStringLiteral("db must be a non-negative integer"));
        out.db = db;
    }
    if (endpoint)
        *endpoint = out;
    return true;
}

} // namespace apex
