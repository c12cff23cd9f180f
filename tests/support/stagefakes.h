#pragma once

// In-process stand-ins for the stages around a CallSession, so the state machine
// can be driven step by step. (The cloud fakes that speak real protocols live
// with their clients' tests; these replace only our own interfaces.)

#include "llm/responder.h"
#include "store/sessionstore.h"
#include "stt/speechrecognizer.h"
#include "telephony/callleg.h"
#include "tenancy/tenant.h"
#include "tts/speechsynthesizer.h"

#include <QHash>
#include <QPointer>
#include <QStringList>
#include <QTimer>

namespace apex::test {

class FakeLeg : public CallLeg
{
    Q_OBJECT
public:
    void sendAudio(QByteArrayView mulaw) override
    {
        ++framesSent;
        bytesSent += mulaw.size();
        lastFrameBytes = int(mulaw.size());
        events << QStringLiteral("media");
    }
    void sendMark(const QString &name) override { events << QStringLiteral("mark:") + name; }
    void clearAudio() override
    {
        ++clears;
        events << QStringLiteral("clear");
    }
    void hangUp() override { ++hangUps; }

    int framesSent = 0;
    qint64 bytesSent = 0;
    int lastFrameBytes = 0;
    int clears = 0;
    int hangUps = 0;
    QStringList events;
};

class FakeRecognizer : public SpeechRecognizer
{
    Q_OBJECT
public:
    void pushMulaw(QByteArrayView mulaw) override { bytesPushed += mulaw.size(); }
    void stop() override { stopped = true; }

    qint64 bytesPushed = 0;
    bool stopped = false;
};

class FakeRecognizerFactory : public SpeechRecognizerFactory
{
public:
    QString name() const override { return QStringLiteral("fake"); }
    void prepareTenant(const Tenant &) override { ++prepared; }
    std::unique_ptr<SpeechRecognizer> create(const Tenant &, const QString &) override
    {
        auto r = std::make_unique<FakeRecognizer>();
        last = r.get();
        ++created;
        return r;
    }
    int prepared = 0;
    int created = 0;
    QPointer<FakeRecognizer> last;
};

// Replies with a fixed text in a few pieces, on later event-loop turns.
class FakeResponder : public Responder
{
    Q_OBJECT
public:
    void respond(const ResponderRequest &request) override
    {
        requests << request;
        const quint64 generation = ++m_generation;
        if (!failure.isEmpty()) {
            QTimer::singleShot(0, this, [this, generation] {
                if (generation == m_generation)
                    Q_EMIT failed(failure);
            });
            return;
        }
        const QStringList pieces = reply.split(QLatin1Char('|'));
        int delay = firstDelayMs;
        for (const auto &piece : pieces) {
            QTimer::singleShot(delay++, this, [this, generation, piece] {
                if (generation == m_generation)
                    Q_EMIT textDelta(piece);
            });
        }
        QTimer::singleShot(delay, this, [this, generation] {
            if (generation == m_generation)
                Q_EMIT finished();
        });
    }
    void cancel() override
    {
        ++m_generation;
        ++cancels;
    }
    ProviderFailure providerFailure() const override { return failureKind; }

    QString reply = QStringLiteral("We are open| from nine to six. |Anything else?");
    QString failure; // non-empty: respond() fails with it before any text
    ProviderFailure failureKind; // what providerFailure() says of it
    int firstDelayMs = 0;        // before the first piece: a slow first token
    QList<ResponderRequest> requests;
    int cancels = 0;

private:
    quint64 m_generation = 0;
};

class FakeResponderFactory : public ResponderFactory
{
public:
    QString name() const override { return QStringLiteral("fake"); }
    std::unique_ptr<Responder> create(const Tenant &) override
    {
        auto r = std::make_unique<FakeResponder>();
        r->failure = failure;
        r->failureKind = failureKind;
        r->firstDelayMs = firstDelayMs;
        last = r.get();
        ++created;
        return r;
    }
    QString failure;
    ProviderFailure failureKind;
    int firstDelayMs = 0;
    int created = 0;
    QPointer<FakeResponder> last;
};

// Each sentence becomes `framesPerSentence` frames of non-silent mu-law.
class FakeSynthesisJob : public SynthesisJob
{
    Q_OBJECT
public:
    FakeSynthesisJob(int bytes, QObject *parent, const QString &failure = {}, ProviderFailure failureKind = {}, int delayMs = 1)
        : SynthesisJob(parent)
        , m_failureKind(failureKind)
    {
        QTimer::singleShot(delayMs, this, [this, bytes, failure] {
            if (m_cancelled)
                return;
            if (!failure.isEmpty()) {
                Q_EMIT failed(failure);
                return;
            }
            Q_EMIT audio(QByteArray(bytes, char(0x10)));
            Q_EMIT finished();
        });
    }
    void cancel() override { m_cancelled = true; }
    ProviderFailure providerFailure() const override { return m_failureKind; }

private:
    ProviderFailure m_failureKind;
    bool m_cancelled = false;
};

class FakeSynthesizer : public SpeechSynthesizer
{
public:
    QString name() const override { return QStringLiteral("fake"); }
    bool supports(const SynthesisRequest &) const override { return true; }
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override
    {
        sentences << request.text;
        requests << request;
        const int frames = framesFor.value(request.text, framesPerSentence);
        return new FakeSynthesisJob(frames * 160 + 40, parent, failure, failureKind, delayMs); // a ragged last frame
    }
    int framesPerSentence = 10;
    QHash<QString, int> framesFor; // per sentence text, else framesPerSentence
    QString failure; // non-empty: every job fails with it before any audio
    ProviderFailure failureKind;
    int delayMs = 1; // before the audio (or the failure)
    QList<SynthesisRequest> requests;
    QStringList sentences;
};

// Keeps what was saved; answers on the next event-loop turn like a real store.
class FakeSessionStore : public SessionStore
{
public:
    void save(const SessionRecord &record, std::function<void(bool)> done) override
    {
        saved << record;
        if (done)
            QTimer::singleShot(0, [done] { done(true); });
    }
    void load(const QString &tenantId, const QString &kind, const QString &id,
              std::function<void(std::optional<SessionRecord>)> done) override
    {
        std::optional<SessionRecord> found;
        for (const auto &record : std::as_const(saved))
            if (record.tenantId == tenantId && record.kind == kind && record.id == id)
                found = record;
        QTimer::singleShot(0, [done, found] { done(found); });
    }
    QList<SessionRecord> saved;
};

} // namespace apex::test
