#pragma once

// The fault matrix of issue 9 ("Provider governance"): for each fault, five
// concurrent calls of three turns against the cloud fakes, then the fault is
// lifted and one more call is placed. What is asserted is what a caller and
// the providers can see: calls that finish, first audio within the tenant's
// silence budget, how many requests a failing provider got once its breaker
// opened, and that the breaker closes again.
//
// Threads: the engine runs on its own (EngineHost), each fake on its own (the
// fake Azure speaks every sentence with flite before answering, which must not
// delay another fake's answer nor a caller's 20 ms frame), and the simulated
// callers on theirs, so the test thread may block (Redis restart, counters)
// without skewing a measured latency.

#include "fakeazure.h"
#include "fakedeepgram.h"
#include "fakegroq.h"

#include "democall/callreport.h"
#include "democall/simulatedcaller.h"
#include "tenancy/engineconfig.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>

#include <functional>
#include <memory>
#include <optional>

namespace apex::test {

// An object of type T made, used and destroyed on a thread of its own.
// run() executes on that thread and waits for it: the fakes keep plain
// containers, so every read of their counters goes through here.
template<typename T>
class OnThread
{
public:
    explicit OnThread(const QString &name)
    {
        m_thread.setObjectName(name);
        m_anchor.moveToThread(&m_thread);
        m_thread.start();
        run([this] { m_object = std::make_unique<T>(); });
    }
    ~OnThread()
    {
        run([this] { m_object.reset(); });
        m_thread.quit();
        m_thread.wait();
    }
    OnThread(const OnThread &) = delete;
    OnThread &operator=(const OnThread &) = delete;

    template<typename F>
    auto run(F &&f) -> decltype(f())
    {
        using R = decltype(f());
        if constexpr (std::is_void_v<R>) {
            QMetaObject::invokeMethod(&m_anchor, std::forward<F>(f), Qt::BlockingQueuedConnection);
        } else {
            std::optional<R> out;
            QMetaObject::invokeMethod(&m_anchor, [&] { out.emplace(f()); }, Qt::BlockingQueuedConnection);
            return std::move(*out);
        }
    }
    // With the object: run([](T &fake) { ... }).
    template<typename F>
    auto with(F &&f) -> decltype(f(std::declval<T &>()))
    {
        return run([&] { return f(*m_object); });
    }

private:
    QThread m_thread;
    QObject m_anchor;
    std::unique_ptr<T> m_object;
};

// The three cloud fakes of one fault row, fresh for every row.
struct CloudFakes
{
    CloudFakes();
    ~CloudFakes();

    OnThread<FakeGroq> groq{QStringLiteral("fake-groq")};
    OnThread<FakeAzure> azure{QStringLiteral("fake-azure")};
    OnThread<FakeDeepgram> deepgram{QStringLiteral("fake-deepgram")};
    QString groqBaseUrl;
    QString azureUrl;
    QString deepgramUrl;

    // The seed's healthy timings: time to first token 150 ms, TTS first byte
    // 150 ms, Deepgram's endpointing as the engine asks for it. Every LLM reply
    // opens with a sentence no other turn says, so the TTS cache cannot hide Azure.
    void setHealthy();
};

enum class Governed { Llm, Tts, Stt, Redis };

struct FaultSpec
{
    QString id;    // the QTest row
    QString group; // the executable that runs it (test_faults_<group>)
    QString label; // the table's first column
    Governed provider = Governed::Llm;
    // Run on the fakes' threads before the calls, and to lift the fault after them.
    std::function<void(CloudFakes &)> inject;
    std::function<void(CloudFakes &)> lift; // empty: setHealthy()

    // Requests (HTTP requests, WebSocket handshakes) one admission through the
    // breaker may cost: the LLM client retries a 429 once, the Deepgram client
    // reconnects three times before it gives up on a call.
    int attemptsPerAdmission = 1;
    // Admissions one call may have in flight at once: the speaker asks for the
    // next sentence while the first still plays.
    int inFlightPerCall = 1;
    // Every admitted request fails while the fault lasts, so the total the
    // provider gets is bounded by the breaker (threshold + stragglers + probes).
    bool alwaysFails = true;
    bool unauthorized = false; // 401: one failure opens the breaker

    enum class RedisFault { None, KillAndRestart, Hang } redis = RedisFault::None;
};

// What one row measured.
struct FaultResult
{
    QString label;
    int callsOk = 0;
    int calls = 0;
    int turns = 0;
    int turnsInBudget = 0;
    QList<double> latencies; // caller-heard, end of speech -> first agent frame
    double p50 = -1;
    double max = -1;
    bool breakerExists = false;
    bool opened = false;
    int timesOpened = 0;
    int requestsAtInject = 0;
    int requestsAtFirstOpen = -1;
    int requestsAtLift = 0;
    int requestsWhileOpen = 0; // lift - first open
    int openBound = -1;        // what the config allows while open
    int totalBound = -1;       // what the config allows during the whole fault (alwaysFails rows)
    double faultSeconds = 0;
    double openSeconds = 0;
    QString finalState;        // the breaker in /stats after the recovery call
    bool primaryServedAgain = false;
    QString primaryEvidence;
    // What the fault-phase turns were answered with, from the engine's transcript.
    int holdLines = 0;
    int primaryReplies = 0;  // a whole LLM reply
    int cutReplies = 0;      // an LLM reply that stops mid-sentence
    int fallbackReplies = 0; // the FAQ responder
    int apologies = 0;       // the tenant's fallbackLine ("Sorry, I did not catch that")
    int unanswered = 0;      // turns with no reply line at all (the hold line at most)
    int shortReplies = 0;    // caller-side: turns that heard less than 1 s of agent audio in all
    QString breakerLastError;
    QJsonObject llmConcurrency; // governance.llmConcurrency at the lift
    QStringList problems; // each failed assertion, with its evidence

    QString tableRow() const;
};

class FaultMatrix
{
public:
    static constexpr int kCalls = 5;
    static constexpr int kCoolDownMs = 1500;
    static constexpr int kSlackMs = 500; // (b): first audio within silenceBudgetMs + this

    static QList<FaultSpec> all();
    static std::optional<FaultSpec> find(const QString &id);

    // Runs one row: fresh fakes, a fresh engine, the calls, the recovery call.
    static FaultResult run(const FaultSpec &spec);

    // The markdown table: the header and every group's rows written so far.
    static QString tableHeader();
    static void saveRows(const QString &group, const QList<FaultResult> &results);
    static QString combinedTable();

    static Tenant testTenant();
    static QByteArray speech(const QString &text); // flite rms, 8 kHz mu-law, cached
};

} // namespace apex::test
