// Issue 9's fault matrix, one group of faults per executable so ctest -j2 runs
// them side by side (APEX_FAULT_GROUP picks the rows by FaultSpec::group).
// Every row runs whole even when an assertion fails, so the table shows what
// each fault did; the row then fails with every broken assertion and its evidence.

#include "faultmatrix.h"

#include <QTest>

using namespace apex;
using namespace apex::test;

class TestFaultMatrix : public QObject
{
    Q_OBJECT

    QList<FaultResult> m_results;

private Q_SLOTS:
    void initTestCase()
    {
        // The callers' questions, synthesised once before any timing matters.
        for (const QString &q : {QStringLiteral("What are your opening hours?"), QStringLiteral("Do you have parking?"),
                                 QStringLiteral("How much does a cleaning cost?")})
            QVERIFY(!FaultMatrix::speech(q).isEmpty());
    }

    void fault_data()
    {
        QTest::addColumn<QString>("id");
        for (const FaultSpec &spec : FaultMatrix::all())
            if (spec.group == QLatin1String(APEX_FAULT_GROUP))
                QTest::newRow(qPrintable(spec.id)) << spec.id;
    }

    void fault()
    {
        QFETCH(QString, id);
        const std::optional<FaultSpec> spec = FaultMatrix::find(id);
        QVERIFY(spec);
        const FaultResult result = FaultMatrix::run(*spec);
        m_results << result;
        FaultMatrix::saveRows(QStringLiteral(APEX_FAULT_GROUP), m_results);
        QVERIFY2(result.problems.isEmpty(), qPrintable(QLatin1Char('\n') + result.problems.join(QLatin1Char('\n'))));
    }

    void cleanupTestCase()
    {
        // This group's rows and every other group's latest, ready for the README.
        qInfo().noquote() << QStringLiteral("\nFault matrix (" APEX_FAULT_GROUP " just ran; other groups as last run):\n")
                                 + FaultMatrix::combinedTable();
    }
};

QTEST_GUILESS_MAIN(TestFaultMatrix)
#include "test_fault_matrix.moc"
