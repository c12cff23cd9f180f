#include "providers/aimdlimiter.h"
#include "providers/breakerpass.h"
#include "providers/breakerregistry.h"
#include "providers/circuitbreaker.h"
#include "providers/tenantlimit.h"

#include <QTest>

#include <array>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

using namespace apex;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Q_DECLARE_METATYPE(apex::BreakerState)
Q_DECLARE_METATYPE(apex::FailureKind)

namespace apex {
// Lets QCOMPARE print states and admissions when a comparison fails.
char *toString(BreakerState state)
{
    return qstrdup(qPrintable(breakerStateName(state)));
}
char *toString(Admission admission)
{
    static const char *names[] = {"Refused", "Allowed", "Probe"};
    return qstrdup(names[int(admission)]);
}
} // namespace apex

namespace {

// Any fixed point will do: nothing in the suite reads the real clock.
const Clock::time_point t0 = Clock::time_point{} + 1h;

qint64 msAfterT0(Clock::time_point at)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(at - t0).count();
}

// Stands in for the provider: counts the requests that actually went out.
struct FakeProvider
{
    int calls = 0;
};

Admission callThrough(CircuitBreaker &breaker, FakeProvider &provider, Clock::time_point now)
{
    const Admission admission = breaker.admit(now);
    if (isAdmitted(admission))
        ++provider.calls;
    return admission;
}

void fail(CircuitBreaker &breaker, Clock::time_point now, FailureKind kind = FailureKind::ServerError)
{
    const Admission admission = breaker.admit(now);
    QVERIFY(isAdmitted(admission));
    breaker.recordFailure(admission, kind, QStringLiteral("HTTP 503"), now);
}

// Opens a breaker with the given policy at t0.
void openAt(CircuitBreaker &breaker, Clock::time_point now)
{
    for (int i = 0; i < breaker.policy().failureThreshold; ++i)
        fail(breaker, now);
    QCOMPARE(breaker.state(), BreakerState::Open);
}

} // namespace

class TestGovernance : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // --- circuit breaker -------------------------------------------------

    void breakerOpensAfterExactlyThresholdFailures_data()
    {
        QTest::addColumn<int>("threshold");
        QTest::newRow("1") << 1;
        QTest::newRow("3 (Azure TTS)") << 3;
        QTest::newRow("5 (LLM)") << 5;
    }
    void breakerOpensAfterExactlyThresholdFailures()
    {
        QFETCH(int, threshold);
        CircuitBreaker breaker({threshold, 30s});
        for (int i = 1; i < threshold; ++i) {
            fail(breaker, t0);
            QCOMPARE(breaker.state(), BreakerState::Closed);
            QCOMPARE(breaker.snapshot().consecutiveFailures, i);
        }
        fail(breaker, t0);
        QCOMPARE(breaker.state(), BreakerState::Open);
        QCOMPARE(breaker.snapshot().timesOpened, 1u);
    }

    void aStateChangeKnowsTheCallThatCausedIt()
    {
        auto breaker = std::make_shared<CircuitBreaker>(BreakerPolicy{1, 50ms});
        std::vector<std::pair<BreakerState, std::string>> seen;
        breaker->setTransitionListener([&](const BreakerTransition &t) {
            seen.emplace_back(t.to, BreakerPass::currentCallerLogPrefix());
        });
        BreakerPass(breaker, "call=CA1 tenant=demo ").failed(ProviderFailure{FailureKind::ServerError, 503}, QStringLiteral("HTTP 503"));
        QCOMPARE(seen.size(), size_t(1));
        QCOMPARE(seen.back().first, BreakerState::Open);
        QCOMPARE(seen.back().second, std::string("call=CA1 tenant=demo "));
        QVERIFY(BreakerPass::currentCallerLogPrefix().empty()); // only inside the pass
        std::this_thread::sleep_for(60ms); // the cool-down: the next pass is the probe
        BreakerPass(breaker, "call=CA2 tenant=demo ").succeeded();
        QCOMPARE(seen.back().first, BreakerState::Closed);
        QCOMPARE(seen.back().second, std::string("call=CA2 tenant=demo "));
    }

    void successInBetweenResetsTheCount()
    {
        CircuitBreaker breaker({3, 30s});
        fail(breaker, t0);
        fail(breaker, t0);
        const Admission ok = breaker.admit(t0);
        breaker.recordSuccess(ok, t0);
        QCOMPARE(breaker.snapshot().consecutiveFailures, 0);
        fail(breaker, t0);
        fail(breaker, t0);
        QCOMPARE(breaker.state(), BreakerState::Closed);
        fail(breaker, t0);
        QCOMPARE(breaker.state(), BreakerState::Open);
        QCOMPARE(breaker.snapshot().totalFailures, 5u);
    }

    void openBreakerRefusesWithoutACall()
    {
        CircuitBreaker breaker({3, 30s});
        openAt(breaker, t0);
        FakeProvider provider;
        for (auto at : {t0, t0 + 1ms, t0 + 10s, t0 + 30s - 1ms})
            QCOMPARE(callThrough(breaker, provider, at), Admission::Refused);
        QCOMPARE(provider.calls, 0);
        const BreakerSnapshot s = breaker.snapshot();
        QVERIFY(s.nextProbeAt.has_value());
        QCOMPARE(msAfterT0(*s.nextProbeAt), 30000);
    }

    void halfOpenLetsExactlyOneProbe()
    {
        CircuitBreaker breaker({3, 30s});
        openAt(breaker, t0);
        FakeProvider provider;
        QCOMPARE(callThrough(breaker, provider, t0 + 30s), Admission::Probe);
        QCOMPARE(breaker.state(), BreakerState::HalfOpen);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(callThrough(breaker, provider, t0 + 31s + i * 1s), Admission::Refused);
        QCOMPARE(provider.calls, 1);
        QVERIFY(!breaker.snapshot().nextProbeAt.has_value());
    }

    void probeSuccessCloses()
    {
        CircuitBreaker breaker({3, 30s});
        openAt(breaker, t0);
        const Admission probe = breaker.admit(t0 + 30s);
        QCOMPARE(probe, Admission::Probe);
        breaker.recordSuccess(probe, t0 + 31s);
        QCOMPARE(breaker.state(), BreakerState::Closed);
        QCOMPARE(breaker.snapshot().consecutiveFailures, 0);
        QCOMPARE(breaker.admit(t0 + 31s), Admission::Allowed);
        QCOMPARE(breaker.admit(t0 + 31s), Admission::Allowed);
    }

    void probeFailureReopensWithFreshCoolDown()
    {
        CircuitBreaker breaker({3, 30s});
        openAt(breaker, t0);
        const auto probeAt = t0 + 45s;
        const Admission probe = breaker.admit(probeAt);
        QCOMPARE(probe, Admission::Probe);
        breaker.recordFailure(probe, FailureKind::Timeout, QStringLiteral("no first byte in 2000 ms"), probeAt);
        QCOMPARE(breaker.state(), BreakerState::Open);
        const BreakerSnapshot s = breaker.snapshot();
        QCOMPARE(msAfterT0(*s.nextProbeAt), 75000);
        QCOMPARE(s.timesOpened, 2u);
        // The first cool-down's end no longer counts.
        QCOMPARE(breaker.admit(t0 + 60s), Admission::Refused);
        QCOMPARE(breaker.admit(probeAt + 30s - 1ms), Admission::Refused);
        QCOMPARE(breaker.admit(probeAt + 30s), Admission::Probe);
    }

    void onlyUnauthorizedOpensAtOnce_data()
    {
        QTest::addColumn<FailureKind>("kind");
        QTest::addColumn<BreakerState>("stateAfterOne");
        QTest::newRow("401/403") << FailureKind::Unauthorized << BreakerState::Open;
        QTest::newRow("connect") << FailureKind::Connect << BreakerState::Closed;
        QTest::newRow("timeout") << FailureKind::Timeout << BreakerState::Closed;
        QTest::newRow("5xx") << FailureKind::ServerError << BreakerState::Closed;
        QTest::newRow("429 after retries") << FailureKind::RateLimited << BreakerState::Closed;
        QTest::newRow("protocol") << FailureKind::Protocol << BreakerState::Closed;
    }
    void onlyUnauthorizedOpensAtOnce()
    {
        QFETCH(FailureKind, kind);
        QFETCH(BreakerState, stateAfterOne);
        CircuitBreaker breaker({5, 30s});
        fail(breaker, t0, kind);
        QCOMPARE(breaker.state(), stateAfterOne);
    }

    void abandonedProbeFreesTheSlot()
    {
        CircuitBreaker breaker({3, 30s});
        openAt(breaker, t0);
        const Admission probe = breaker.admit(t0 + 30s);
        QCOMPARE(probe, Admission::Probe);
        QCOMPARE(breaker.admit(t0 + 30s), Admission::Refused);
        breaker.recordAbandoned(probe);
        QCOMPARE(breaker.state(), BreakerState::HalfOpen);
        QCOMPARE(breaker.admit(t0 + 31s), Admission::Probe);
    }

    void hangUpIsNotAFailure()
    {
        CircuitBreaker breaker({3, 30s});
        fail(breaker, t0);
        for (int i = 0; i < 10; ++i)
            breaker.recordAbandoned(breaker.admit(t0));
        fail(breaker, t0);
        QCOMPARE(breaker.state(), BreakerState::Closed);
        const BreakerSnapshot s = breaker.snapshot();
        QCOMPARE(s.consecutiveFailures, 2);
        QCOMPARE(s.totalFailures, 2u);
    }

    void stragglersDoNotDecideTheProbe()
    {
        CircuitBreaker breaker({2, 30s});
        const Admission early1 = breaker.admit(t0);
        const Admission early2 = breaker.admit(t0);
        const Admission early3 = breaker.admit(t0);
        openAt(breaker, t0);

        // Failing while Open does not push the probe further away.
        breaker.recordFailure(early1, FailureKind::Timeout, {}, t0 + 10s);
        QCOMPARE(msAfterT0(*breaker.snapshot().nextProbeAt), 30000);

        const Admission probe = breaker.admit(t0 + 30s);
        QCOMPARE(probe, Admission::Probe);
        // Neither a late success nor a late hang-up from before the opening
        // closes the breaker or frees the probe's slot.
        breaker.recordSuccess(early2, t0 + 31s);
        breaker.recordAbandoned(early3);
        QCOMPARE(breaker.state(), BreakerState::HalfOpen);
        QCOMPARE(breaker.admit(t0 + 31s), Admission::Refused);
        breaker.recordSuccess(probe, t0 + 32s);
        QCOMPARE(breaker.state(), BreakerState::Closed);
    }

    void transitionsAreReportedOnceEach()
    {
        CircuitBreaker breaker({3, 30s});
        QList<BreakerTransition> seen;
        breaker.setTransitionListener([&seen](const BreakerTransition &t) { seen.append(t); });

        openAt(breaker, t0);
        // Stragglers failing while Open are counted, but change nothing.
        for (int i = 0; i < 3; ++i)
            breaker.recordFailure(Admission::Allowed, FailureKind::Connect, {}, t0 + 1s);
        for (int i = 0; i < 3; ++i)
            (void)breaker.admit(t0 + 2s);
        const Admission probe = breaker.admit(t0 + 30s);
        for (int i = 0; i < 3; ++i)
            (void)breaker.admit(t0 + 30s);
        breaker.recordSuccess(probe, t0 + 31s);
        for (int i = 0; i < 3; ++i)
            breaker.recordSuccess(breaker.admit(t0 + 32s), t0 + 32s);

        QCOMPARE(seen.size(), 3);
        QCOMPARE(seen[0].from, BreakerState::Closed);
        QCOMPARE(seen[0].to, BreakerState::Open);
        QCOMPARE(seen[0].reason, QStringLiteral("server-error: HTTP 503"));
        QCOMPARE(msAfterT0(seen[0].at), 0);
        QCOMPARE(seen[1].from, BreakerState::Open);
        QCOMPARE(seen[1].to, BreakerState::HalfOpen);
        QCOMPARE(msAfterT0(seen[1].at), 30000);
        QCOMPARE(seen[2].from, BreakerState::HalfOpen);
        QCOMPARE(seen[2].to, BreakerState::Closed);
        QCOMPARE(msAfterT0(seen[2].at), 31000);
    }

    void snapshotKeepsTheLastErrorAfterClosing()
    {
        CircuitBreaker breaker({1, 5s});
        const Admission a = breaker.admit(t0);
        breaker.recordFailure(a, FailureKind::Unauthorized, QStringLiteral("HTTP 401"), t0);
        const Admission probe = breaker.admit(t0 + 5s);
        breaker.recordSuccess(probe, t0 + 6s);
        const BreakerSnapshot s = breaker.snapshot();
        QCOMPARE(s.state, BreakerState::Closed);
        QCOMPARE(s.lastError, QStringLiteral("unauthorized: HTTP 401"));
        QCOMPARE(s.totalFailures, 1u);
        QCOMPARE(s.timesOpened, 1u);
        QVERIFY(!s.nextProbeAt.has_value());
    }

    // --- breaker registry ------------------------------------------------

    void registryDefaults_data()
    {
        QTest::addColumn<QString>("provider");
        QTest::addColumn<int>("threshold");
        QTest::newRow("Azure TTS") << QString::fromLatin1(kAzureTtsBreaker) << 3;
        QTest::newRow("LLM") << QString::fromLatin1(kLlmBreaker) << 5;
        QTest::newRow("Deepgram") << QString::fromLatin1(kDeepgramBreaker) << 5;
        QTest::newRow("unknown") << QStringLiteral("someday-provider") << 5;
    }
    void registryDefaults()
    {
        QFETCH(QString, provider);
        QFETCH(int, threshold);
        BreakerRegistry registry;
        const BreakerPolicy policy = registry.breaker(provider, QStringLiteral("westeurope"))->policy();
        QCOMPARE(policy.failureThreshold, threshold);
        QCOMPARE(policy.coolDown.count(), 30000);
    }

    void registryCoolDownIsConfigurable()
    {
        BreakerRegistry registry(BreakerPolicies::defaults(10s));
        QCOMPARE(registry.breaker(QString::fromLatin1(kAzureTtsBreaker), QStringLiteral("x"))->policy().coolDown.count(),
                 10000);
        QCOMPARE(registry.breaker(QStringLiteral("other"), QStringLiteral("x"))->policy().coolDown.count(), 10000);
    }

    void registryKeysByProviderAndEndpoint()
    {
        BreakerRegistry registry;
        const QString azure = QString::fromLatin1(kAzureTtsBreaker);
        auto west = registry.breaker(azure, QStringLiteral("westeurope"));
        QCOMPARE(registry.breaker(azure, QStringLiteral("westeurope")).get(), west.get());
        auto east = registry.breaker(azure, QStringLiteral("eastus"));
        QVERIFY(east.get() != west.get());

        QList<std::pair<BreakerKey, BreakerTransition>> seen;
        registry.setTransitionListener(
            [&seen](const BreakerKey &key, const BreakerTransition &t) { seen.append({key, t}); });
        openAt(*west, t0);
        QCOMPARE(east->state(), BreakerState::Closed);
        QCOMPARE(seen.size(), 1);
        QCOMPARE(seen[0].first.endpoint, QStringLiteral("westeurope"));

        // Breakers created after the listener was set report too.
        auto llm = registry.breaker(QString::fromLatin1(kLlmBreaker), QStringLiteral("api.groq.com"));
        openAt(*llm, t0);
        QCOMPARE(seen.size(), 2);
        QCOMPARE(seen[1].first.provider, QString::fromLatin1(kLlmBreaker));

        const QList<BreakerReport> reports = registry.reports();
        QCOMPARE(reports.size(), 3);
        QCOMPARE(reports[0].key.endpoint, QStringLiteral("eastus"));
        QCOMPARE(reports[1].key.endpoint, QStringLiteral("westeurope"));
        QCOMPARE(reports[1].snapshot.state, BreakerState::Open);
        QCOMPARE(reports[1].policy.failureThreshold, 3);
        QCOMPARE(reports[2].key.provider, QString::fromLatin1(kLlmBreaker));
    }

    // --- AIMD limiter ----------------------------------------------------

    void aimdHalvesOn429_data()
    {
        QTest::addColumn<int>("limit");
        QTest::addColumn<int>("halved");
        QTest::newRow("8 -> 4") << 8 << 4;
        QTest::newRow("5 -> 2") << 5 << 2;
        QTest::newRow("3 -> 1") << 3 << 1;
        QTest::newRow("floor 1") << 1 << 1;
    }
    void aimdHalvesOn429()
    {
        QFETCH(int, limit);
        QFETCH(int, halved);
        AimdLimiter limiter({limit, 64});
        AimdLimiter::Permit permit = limiter.tryAcquire(t0);
        QVERIFY(permit);
        limiter.onRateLimited(permit, 0ms, t0);
        QCOMPARE(limiter.snapshot(t0).limit, halved);
    }

    void aimdBurstOf429sFromOneWindowHalvesOnce()
    {
        AimdLimiter limiter({8, 64});
        std::vector<AimdLimiter::Permit> inFlight;
        for (int i = 0; i < 8; ++i)
            inFlight.push_back(limiter.tryAcquire(t0));
        for (const auto &permit : inFlight)
            limiter.onRateLimited(permit, 0ms, t0 + 100ms);
        QCOMPARE(limiter.snapshot(t0).limit, 4);
        QCOMPARE(limiter.snapshot(t0).decreases, 1u);

        // A request sent under the new limit that still meets a 429 is news.
        inFlight.clear();
        AimdLimiter::Permit later = limiter.tryAcquire(t0 + 1s);
        QVERIFY(later);
        limiter.onRateLimited(later, 0ms, t0 + 1s);
        QCOMPARE(limiter.snapshot(t0).limit, 2);
    }

    void aimdGrowsByOneUpToTheCeiling()
    {
        AimdLimiter limiter({2, 4});
        AimdLimiter::Permit a = limiter.tryAcquire(t0);
        AimdLimiter::Permit b = limiter.tryAcquire(t0);
        QVERIFY(!limiter.tryAcquire(t0));
        limiter.onSuccess(a);
        QCOMPARE(limiter.snapshot(t0).limit, 3);
        limiter.onSuccess(b);
        QCOMPARE(limiter.snapshot(t0).limit, 4);
        AimdLimiter::Permit c = limiter.tryAcquire(t0);
        AimdLimiter::Permit d = limiter.tryAcquire(t0);
        limiter.onSuccess(c);
        limiter.onSuccess(d);
        QCOMPARE(limiter.snapshot(t0).limit, 4);
    }

    void aimdDoesNotGrowWhileIdle()
    {
        AimdLimiter limiter({8, 64});
        for (int i = 0; i < 100; ++i) {
            AimdLimiter::Permit permit = limiter.tryAcquire(t0);
            limiter.onSuccess(permit);
        }
        QCOMPARE(limiter.snapshot(t0).limit, 8);
    }

    void aimdRefusesAtTheLimit()
    {
        AimdLimiter limiter({3, 8});
        std::vector<AimdLimiter::Permit> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(limiter.tryAcquire(t0));
            QVERIFY(held.back());
        }
        QVERIFY(!limiter.tryAcquire(t0));
        const AimdSnapshot s = limiter.snapshot(t0);
        QCOMPARE(s.inFlight, 3);
        QCOMPARE(s.acquired, 3u);
        QCOMPARE(s.refused, 1u);
    }

    void aimdRetryAfterBlocksUntilItsTime()
    {
        AimdLimiter limiter({8, 64});
        {
            AimdLimiter::Permit permit = limiter.tryAcquire(t0);
            limiter.onRateLimited(permit, 2s, t0);
        }
        QVERIFY(!limiter.tryAcquire(t0 + 1999ms));
        const AimdSnapshot blocked = limiter.snapshot(t0 + 1s);
        QVERIFY(blocked.blockedUntil.has_value());
        QCOMPARE(msAfterT0(*blocked.blockedUntil), 2000);
        QVERIFY(limiter.tryAcquire(t0 + 2s));
        QVERIFY(!limiter.snapshot(t0 + 2s).blockedUntil.has_value());
    }

    void aimdLongestRetryAfterWins()
    {
        AimdLimiter limiter({8, 64});
        AimdLimiter::Permit a = limiter.tryAcquire(t0);
        AimdLimiter::Permit b = limiter.tryAcquire(t0);
        limiter.onRateLimited(a, 5s, t0);
        limiter.onRateLimited(b, 1s, t0 + 1s);
        QCOMPARE(msAfterT0(*limiter.snapshot(t0).blockedUntil), 5000);
    }

    void aimdRateLimitHeaders_data()
    {
        QTest::addColumn<int>("remaining");
        QTest::addColumn<bool>("blocks");
        QTest::newRow("none left") << 0 << true;
        QTest::newRow("some left") << 3 << false;
    }
    void aimdRateLimitHeaders()
    {
        QFETCH(int, remaining);
        QFETCH(bool, blocks);
        AimdLimiter limiter({8, 64});
        limiter.onRateLimitHeaders(remaining, 5s, t0);
        QCOMPARE(!limiter.tryAcquire(t0 + 4s), blocks);
        QVERIFY(limiter.tryAcquire(t0 + 5s));
        QCOMPARE(limiter.snapshot(t0 + 5s).limit, 8); // a warning is not a 429: no halving
    }

    void aimdPermitsAreReleasedOnDestruction()
    {
        AimdLimiter limiter({2, 8});
        {
            AimdLimiter::Permit a = limiter.tryAcquire(t0);
            AimdLimiter::Permit moved = std::move(a);
            QVERIFY(!a);
            QVERIFY(moved);
            QCOMPARE(limiter.snapshot(t0).inFlight, 1);
        }
        QCOMPARE(limiter.snapshot(t0).inFlight, 0);

        AimdLimiter::Permit b = limiter.tryAcquire(t0);
        AimdLimiter::Permit c = limiter.tryAcquire(t0);
        b = std::move(c); // b's own slot goes back
        QCOMPARE(limiter.snapshot(t0).inFlight, 1);
        b.release();
        b.release();
        QCOMPARE(limiter.snapshot(t0).inFlight, 0);
    }

    void aimdPermitMayOutliveTheLimiter()
    {
        AimdLimiter::Permit survivor;
        {
            AimdLimiter limiter({1, 1});
            survivor = limiter.tryAcquire(t0);
            QVERIFY(survivor);
        }
        survivor.release(); // must not touch freed memory
        QVERIFY(!survivor);
    }

    // --- tenant limit ----------------------------------------------------

    void tenantQuotaIsEnforced_data()
    {
        QTest::addColumn<int>("quota");
        QTest::newRow("1") << 1;
        QTest::newRow("2") << 2;
        QTest::newRow("5") << 5;
    }
    void tenantQuotaIsEnforced()
    {
        QFETCH(int, quota);
        TenantLimit limits;
        limits.setQuota(QStringLiteral("acme"), quota);
        std::vector<TenantLimit::Permit> held;
        for (int i = 0; i < quota; ++i) {
            held.push_back(limits.tryAcquire(QStringLiteral("acme")));
            QVERIFY(held.back());
        }
        QVERIFY(!limits.tryAcquire(QStringLiteral("acme")));
        QVERIFY(!limits.tryAcquire(QStringLiteral("acme")));
        TenantUsage u = limits.usage(QStringLiteral("acme"));
        QCOMPARE(u.inUse, quota);
        QCOMPARE(u.quota, quota);
        QCOMPARE(u.refused, 2u);

        held.pop_back();
        QVERIFY(limits.tryAcquire(QStringLiteral("acme")));
    }

    void tenantsAreIsolated()
    {
        TenantLimit limits;
        limits.setQuota(QStringLiteral("acme"), 1);
        limits.setQuota(QStringLiteral("demo"), 1);
        TenantLimit::Permit acme = limits.tryAcquire(QStringLiteral("acme"));
        QVERIFY(acme);
        QVERIFY(!limits.tryAcquire(QStringLiteral("acme")));
        TenantLimit::Permit demo = limits.tryAcquire(QStringLiteral("demo"));
        QVERIFY(demo);

        const QList<TenantUsage> all = limits.snapshot();
        QCOMPARE(all.size(), 2);
        QCOMPARE(all[0].tenantId, QStringLiteral("acme"));
        QCOMPARE(all[0].refused, 1u);
        QCOMPARE(all[1].tenantId, QStringLiteral("demo"));
        QCOMPARE(all[1].inUse, 1);
        QCOMPARE(all[1].refused, 0u);
    }

    void tenantQuotaZeroIsUnlimited_data()
    {
        QTest::addColumn<bool>("explicitZero");
        QTest::newRow("set to 0") << true;
        QTest::newRow("default") << false;
    }
    void tenantQuotaZeroIsUnlimited()
    {
        QFETCH(bool, explicitZero);
        TenantLimit limits;
        if (explicitZero)
            limits.setQuota(QStringLiteral("acme"), 0);
        std::vector<TenantLimit::Permit> held;
        for (int i = 0; i < 1000; ++i) {
            held.push_back(limits.tryAcquire(QStringLiteral("acme")));
            QVERIFY(held.back());
        }
        QCOMPARE(limits.usage(QStringLiteral("acme")).inUse, 1000);
        held.clear();
        QCOMPARE(limits.usage(QStringLiteral("acme")).inUse, 0);
    }

    void tenantDefaultQuotaAppliesToUnlistedTenants()
    {
        TenantLimit limits(1);
        limits.setQuota(QStringLiteral("big"), 3);
        TenantLimit::Permit p = limits.tryAcquire(QStringLiteral("small"));
        QVERIFY(p);
        QVERIFY(!limits.tryAcquire(QStringLiteral("small")));
        QCOMPARE(limits.usage(QStringLiteral("big")).quota, 3);
        QCOMPARE(limits.usage(QStringLiteral("never-seen")).quota, 1);
    }

    void tenantLoweredQuotaDrainsWithoutRevoking()
    {
        TenantLimit limits;
        limits.setQuota(QStringLiteral("acme"), 3);
        std::vector<TenantLimit::Permit> held;
        for (int i = 0; i < 3; ++i)
            held.push_back(limits.tryAcquire(QStringLiteral("acme")));
        limits.setQuota(QStringLiteral("acme"), 1);
        QCOMPARE(limits.usage(QStringLiteral("acme")).inUse, 3);
        held.pop_back();
        QVERIFY(!limits.tryAcquire(QStringLiteral("acme")));
        held.clear();
        QVERIFY(limits.tryAcquire(QStringLiteral("acme")));
    }

    // --- all of it, from many threads ------------------------------------

    void hammerFromManyThreads()
    {
        constexpr int threads = 8;
        constexpr int iterations = 5000;
        constexpr int ceiling = 6;
        constexpr int tenantQuota = 2;
        const std::array<QString, 2> tenantIds{QStringLiteral("acme"), QStringLiteral("demo")};

        AimdLimiter limiter({4, ceiling});
        TenantLimit tenants;
        for (const QString &id : tenantIds)
            tenants.setQuota(id, tenantQuota);
        CircuitBreaker breaker({3, 5ms});
        QList<BreakerTransition> transitions; // appended under the breaker's lock
        breaker.setTransitionListener([&transitions](const BreakerTransition &t) { transitions.append(t); });

        // Virtual time: one tick per attempt, shared by every thread.
        std::atomic<qint64> ticks{0};
        std::atomic<int> active{0};
        std::array<std::atomic<int>, 2> tenantActive{};
        std::atomic<int> probesOut{0};
        std::atomic<int> violations{0};
        std::atomic<quint64> limiterAcquired{0}, limiterRefused{0}, tenantRefused{0}, failuresRecorded{0};

        auto worker = [&](int index) {
            std::minstd_rand random(quint32(index + 1));
            const int tenant = index % 2;
            for (int i = 0; i < iterations; ++i) {
                const Clock::time_point now = t0 + std::chrono::milliseconds(ticks.fetch_add(1));
                AimdLimiter::Permit permit = limiter.tryAcquire(now);
                if (!permit) {
                    ++limiterRefused;
                    continue;
                }
                ++limiterAcquired;
                TenantLimit::Permit tenantPermit = tenants.tryAcquire(tenantIds[tenant]);
                if (!tenantPermit) {
                    ++tenantRefused;
                    continue;
                }
                if (++active > ceiling)
                    ++violations;
                if (++tenantActive[tenant] > tenantQuota)
                    ++violations;

                const Admission admission = breaker.admit(now);
                if (admission == Admission::Probe && ++probesOut > 1)
                    ++violations;
                const unsigned roll = random();
                if (admission == Admission::Probe)
                    --probesOut; // before the report, which is what frees the slot
                if (isAdmitted(admission)) {
                    switch (roll % 4) {
                    case 0:
                        ++failuresRecorded;
                        breaker.recordFailure(admission, FailureKind::ServerError, QStringLiteral("HTTP 500"), now);
                        break;
                    case 1:
                        breaker.recordAbandoned(admission);
                        break;
                    default:
                        breaker.recordSuccess(admission, now);
                        break;
                    }
                }
                if (roll % 8 == 0)
                    limiter.onRateLimited(permit, (roll % 16 == 0) ? 1ms : 0ms, now);
                else
                    limiter.onSuccess(permit);

                --tenantActive[tenant];
                --active;
            }
        };

        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i)
            pool.emplace_back(worker, i);
        for (auto &t : pool)
            t.join();

        QCOMPARE(violations.load(), 0);

        const AimdSnapshot s = limiter.snapshot(t0 + std::chrono::milliseconds(ticks.load() + 1000));
        QCOMPARE(s.inFlight, 0);
        QVERIFY(s.limit >= 1 && s.limit <= ceiling);
        QCOMPARE(s.acquired, limiterAcquired.load());
        QCOMPARE(s.refused, limiterRefused.load());
        QCOMPARE(s.acquired + s.refused, quint64(threads) * iterations);
        QVERIFY(s.decreases > 0);

        quint64 refusedByTenants = 0;
        for (const TenantUsage &u : tenants.snapshot()) {
            QCOMPARE(u.inUse, 0);
            refusedByTenants += u.refused;
        }
        QCOMPARE(refusedByTenants, tenantRefused.load());

        const BreakerSnapshot b = breaker.snapshot();
        QCOMPARE(b.totalFailures, failuresRecorded.load());
        QVERIFY(b.timesOpened > 0);
        // The transitions form one unbroken chain, each reported once.
        BreakerState previous = BreakerState::Closed;
        quint64 opened = 0;
        quint64 reclosed = 0;
        for (const BreakerTransition &t : transitions) {
            QCOMPARE(t.from, previous);
            QVERIFY(t.to != t.from);
            if (t.to == BreakerState::Open)
                ++opened;
            if (t.from == BreakerState::HalfOpen && t.to == BreakerState::Closed)
                ++reclosed;
            previous = t.to;
        }
        QCOMPARE(opened, b.timesOpened);
        QVERIFY(reclosed > 0); // the probe path was exercised, not only the opening
        QCOMPARE(b.state, previous);
    }
};

QTEST_GUILESS_MAIN(TestGovernance)
#include "test_governance.moc"
