#include "observability/latencyhistogram.h"
#include "observability/prometheustext.h"
#include "observability/turntrace.h"

#include <QJsonObject>
#include <QTest>

using namespace apex;

class TestObservability : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void prometheusTextFormat()
    {
        PrometheusText out;
        out.family(QStringLiteral("apex_calls_live"), "gauge", QStringLiteral("Calls in progress."));
        out.sample(QStringLiteral("apex_calls_live"), 3);
        out.sample(QStringLiteral("apex_x"), 0.25, {{QStringLiteral("tenant"), QStringLiteral("a\"b\\c\nd")}});
        QCOMPARE(out.text(), QByteArray("# HELP apex_calls_live Calls in progress.\n"
                                        "# TYPE apex_calls_live gauge\n"
                                        "apex_calls_live 3\n"
                                        "apex_x{tenant=\"a\\\"b\\\\c\\nd\"} 0.25\n"));
    }

    void histogramIsCumulative()
    {
        LatencyHistogram h;
        for (double ms : {3.0, 7.0, 40.0, 40.0, 260.0, 9000.0})
            h.record(ms);
        QCOMPARE(h.count(), std::uint64_t(6));
        QCOMPARE(h.sumMs(), 9350.0);
        QCOMPARE(h.cumulative(0), std::uint64_t(1)); // <= 5
        QCOMPARE(h.cumulative(1), std::uint64_t(2)); // <= 10
        QCOMPARE(h.cumulative(3), std::uint64_t(4)); // <= 50
        QCOMPARE(h.cumulative(6), std::uint64_t(5)); // <= 500
        QCOMPARE(h.cumulative(LatencyHistogram::kBucketsMs.size() - 1), std::uint64_t(5)); // 9000 only in +Inf
    }

    void traceKeepsTheFirstStampAndReportsRelativeMs()
    {
        TurnTrace trace(3);
        trace.stamp(TurnStage::EndOfSpeech, 1'000'000'000);
        trace.stamp(TurnStage::Endpointed, 1'250'000'000);
        trace.stamp(TurnStage::TtsStart, 1'300'000'000);
        trace.stamp(TurnStage::TtsStart, 1'900'000'000); // a later sentence: ignored
        QCOMPARE(trace.msBetween(TurnStage::EndOfSpeech, TurnStage::TtsStart), 300.0);
        QCOMPARE(trace.msBetween(TurnStage::EndOfSpeech, TurnStage::FirstFrameOut), -1.0);
        const QJsonObject stages = trace.toJson().value(QStringLiteral("stagesMs")).toObject();
        QCOMPARE(stages.value(QStringLiteral("endpointed")).toDouble(), 250.0);
        QCOMPARE(stages.value(QStringLiteral("tts_start")).toDouble(), 300.0);
        QVERIFY(!stages.contains(QStringLiteral("first_frame_out")));
    }
};

QTEST_GUILESS_MAIN(TestObservability)
#include "test_observability.moc"
