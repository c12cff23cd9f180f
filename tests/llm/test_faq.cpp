#include "llm/faq/faqindex.h"
#include "llm/faq/faqresponder.h"
#include "tenancy/tenant.h"

#include <QSignalSpy>
#include <QTest>

#include <thread>

using namespace apex;

namespace {

// A copy of the demo tenant, kept here so the suite does not follow edits to resources/.
Tenant sunriseDental()
{
    Tenant t;
    t.id = QStringLiteral("sunrise-dental");
    t.name = QStringLiteral("Sunrise Dental Clinic");
    t.fallbackLine = QStringLiteral("Sorry, I can't help with that. Would you like me to take a message for the clinic?");
    auto add = [&t](const char *question, const char *answer, QStringList keywords) {
        t.faq.append({QString::fromUtf8(question), QString::fromUtf8(answer), keywords});
    };
    add("What are your opening hours?",
        "We are open Monday to Saturday, from nine in the morning to six in the evening.",
        {"hours", "open", "timings"});
    add("Where is the clinic located?",
        "We are at 42 Lake Road, next to the City Mall, on the first floor.",
        {"address", "location", "directions"});
    add("How do I book an appointment?",
        "You can book an appointment on this call, or on our website. Which day suits you?",
        {"appointment", "booking", "schedule"});
    add("How much does a teeth cleaning cost?",
        "A routine cleaning costs fifteen hundred rupees, and a consultation is five hundred rupees.",
        {"price", "cost", "fees", "cleaning"});
    add("Is there parking at the clinic?",
        "Yes, there is free parking for patients in the basement of the City Mall.",
        {"parking", "car"});
    add("What should I do in a dental emergency?",
        "For severe pain, bleeding or a broken tooth, come in straight away: we keep emergency slots free every day.",
        {"emergency", "urgent", "pain", "broken tooth"});
    add("Do you accept insurance?",
        "Yes, we accept most major dental insurance plans. Please bring your insurance card to your visit.",
        {"insurance", "claim"});
    add("What payment methods do you accept?",
        "We accept cash, all major credit and debit cards, and UPI.",
        {"payment", "pay", "card", "cash", "UPI"});
    add("Do you treat children?",
        "Yes, our paediatric dentist sees children from the age of two.",
        {"children", "kids", "paediatric", "child"});
    add("How do I cancel or reschedule an appointment?",
        "To cancel or reschedule, please call us at least twenty four hours before your appointment.",
        {"cancel", "reschedule", "cancellation"});
    return t;
}

enum Entry { Hours, Address, Booking, Prices, Parking, Emergency, Insurance, Payment, Children, Cancellation };

} // namespace

class TestFaq : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { m_index = std::make_shared<FaqIndex>(sunriseDental().faq); }

    void normalisation()
    {
        QCOMPARE(FaqIndex::words(QStringLiteral("What's your ADDRESS, please?")),
                 QStringList({"whats", "your", "address", "please"}));
        QCOMPARE(FaqIndex::stem(QStringLiteral("hours")), QStringLiteral("hour"));
        QCOMPARE(FaqIndex::stem(QStringLiteral("opening")), QStringLiteral("open"));
        QCOMPARE(FaqIndex::stem(QStringLiteral("parking")), QStringLiteral("park"));
        QCOMPARE(FaqIndex::stem(QStringLiteral("closed")), FaqIndex::stem(QStringLiteral("close")));
        QCOMPARE(FaqIndex::stem(QStringLiteral("prices")), FaqIndex::stem(QStringLiteral("price")));
        QCOMPARE(FaqIndex::stem(QStringLiteral("running")), QStringLiteral("run"));
        QCOMPARE(FaqIndex::stem(QStringLiteral("children")), QStringLiteral("child"));
        QCOMPARE(FaqIndex::terms(QStringLiteral("What are the opening hours?")), QStringList({"open", "hour"}));
        QVERIFY(FaqIndex::terms(QStringLiteral("is it the")).isEmpty());
    }

    void exactQuestionsRankTheirEntryFirst()
    {
        const Tenant t = sunriseDental();
        for (int i = 0; i < t.faq.size(); ++i) {
            const QList<FaqMatch> ranked = m_index->rank(t.faq.at(i).question);
            QVERIFY2(!ranked.isEmpty(), qPrintable(t.faq.at(i).question));
            QCOMPARE(ranked.first().entryIndex, i);
            QVERIFY2(ranked.first().confidence >= 0.9, qPrintable(t.faq.at(i).question));
            QVERIFY(m_index->bestMatch(t.faq.at(i).question).has_value());
        }
    }

    void paraphrasesMatch_data()
    {
        QTest::addColumn<QString>("utterance");
        QTest::addColumn<int>("entry");
        auto row = [](const char *u, int e) { QTest::newRow(u) << QString::fromUtf8(u) << e; };
        row("when are you open", Hours);
        row("what time do you close", Hours);
        row("are you open on saturday", Hours);
        row("what are your timings", Hours);
        row("where are you located", Address);
        row("what's your address", Address);
        row("how do I find you", Address);
        row("I'd like to make an appointment", Booking);
        row("can I schedule a visit", Booking);
        row("how much is a cleaning", Prices);
        row("what do you charge for a consultation", Prices);
        row("what are your fees", Prices);
        row("is there somewhere to park", Parking);
        row("where can I park my car", Parking);
        row("I have a terrible toothache", Emergency);
        row("it's urgent, my tooth is broken", Emergency);
        row("do you take my insurance", Insurance);
        row("is it covered by insurance", Insurance);
        row("can I pay by card", Payment);
        row("do you take cash", Payment);
        row("do you see kids", Children);
        row("my daughter is five, can you treat her", Children);
        row("I need to cancel my appointment", Cancellation);
        row("can I reschedule", Cancellation);
        // Speech recognition errors.
        row("what are you opening ours", Hours);
        row("do you half parking", Parking);
        row("is there parkin", Parking);
        row("wear is the clinic", Address);
        row("how much does a cleening cost", Prices);
        row("do you except insurance", Insurance);
    }
    void paraphrasesMatch()
    {
        QFETCH(QString, utterance);
        QFETCH(int, entry);
        const QList<FaqMatch> ranked = m_index->rank(utterance);
        // APEX_FAQ_DUMP=1 prints the margins, for retuning FaqIndex::defaultThreshold.
        if (qEnvironmentVariableIsSet("APEX_FAQ_DUMP"))
            qInfo() << utterance << ranked.value(0).entryIndex << ranked.value(0).confidence << ranked.value(1).entryIndex << ranked.value(1).confidence;
        QVERIFY2(!ranked.isEmpty(), "no candidates");
        QCOMPARE(ranked.first().entryIndex, entry);
        const auto best = m_index->bestMatch(utterance);
        QVERIFY2(best.has_value(), qPrintable(QStringLiteral("confidence %1").arg(ranked.first().confidence)));
        QCOMPARE(best->question, sunriseDental().faq.at(entry).question);
    }

    void unrelatedUtterancesDoNotMatch_data()
    {
        QTest::addColumn<QString>("utterance");
        for (const char *u : {"", "   ", "what's the weather on mars", "banana", "who won the cricket match yesterday",
                              "tell me a joke", "the quick brown fox jumps over the lazy dog", "uh", "yes",
                              "can you play some music", "mars", "what is the capital of france",
                              "do you sell shoes", "my cat is sick", "I want to talk about football",
                              "how old is the universe"})
            QTest::newRow(u) << QString::fromUtf8(u);
    }
    void unrelatedUtterancesDoNotMatch()
    {
        QFETCH(QString, utterance);
        const QList<FaqMatch> ranked = m_index->rank(utterance);
        if (qEnvironmentVariableIsSet("APEX_FAQ_DUMP"))
            qInfo() << utterance << ranked.value(0).entryIndex << ranked.value(0).confidence;
        QVERIFY2(!m_index->bestMatch(utterance).has_value(),
                 qPrintable(QStringLiteral("matched with confidence %1").arg(ranked.value(0).confidence)));
    }

    void emptyIndex()
    {
        const FaqIndex empty({});
        QVERIFY(empty.rank(QStringLiteral("opening hours")).isEmpty());
        QVERIFY(!empty.bestMatch(QStringLiteral("opening hours")).has_value());
    }

    void rankReturnsScoresBestFirst()
    {
        const QList<FaqMatch> ranked = m_index->rank(QStringLiteral("how much does an appointment cost"), 5);
        QVERIFY(ranked.size() >= 2);
        for (int i = 1; i < ranked.size(); ++i)
            QVERIFY(ranked.at(i - 1).score >= ranked.at(i).score);
        for (const FaqMatch &m : ranked)
            QVERIFY(m.confidence >= 0.0 && m.confidence <= 1.0);
    }

    void concurrentReadsAgree()
    {
        // The index is shared by every call of a tenant across engine threads.
        const QString question = QStringLiteral("is there somewhere to park");
        const int expected = m_index->rank(question).first().entryIndex;
        std::atomic<int> wrong = 0;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 200; ++i)
                    if (m_index->rank(question).value(0).entryIndex != expected)
                        ++wrong;
            });
        for (auto &th : threads)
            th.join();
        QCOMPARE(wrong.load(), 0);
    }

    void factorySharesIndexPerTenant()
    {
        FaqResponderFactory factory;
        QCOMPARE(factory.name(), QStringLiteral("faq"));
        Tenant t = sunriseDental();
        const auto a = factory.indexFor(t);
        const auto b = factory.indexFor(t);
        QCOMPARE(a.get(), b.get());
        Tenant other = t;
        other.id = QStringLiteral("other");
        QVERIFY(factory.indexFor(other).get() != a.get());
        t.faq.removeLast(); // an edited FAQ gets a fresh index
        const auto c = factory.indexFor(t);
        QVERIFY(c.get() != a.get());
        QCOMPARE(c->size(), a->size() - 1);
        QVERIFY(factory.create(t) != nullptr);
    }

    void responderStreamsAnswerInOrder()
    {
        FaqResponderFactory factory;
        const Tenant t = sunriseDental();
        auto responder = factory.create(t);
        responder->respond({QString(), {}, QStringLiteral("what are your opening hours")});
        // Connected after respond(): nothing may have been emitted synchronously.
        QSignalSpy deltas(responder.get(), &Responder::textDelta);
        QSignalSpy finished(responder.get(), &Responder::finished);
        QSignalSpy failed(responder.get(), &Responder::failed);
        QVERIFY(finished.wait(1000));
        QVERIFY(deltas.size() > 1);
        QString text;
        for (const auto &args : deltas)
            text += args.at(0).toString();
        QCOMPARE(text, t.faq.at(Hours).answer);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(failed.size(), 0);
        QTest::qWait(20);
        QCOMPARE(finished.size(), 1);
    }

    void responderFallsBack()
    {
        FaqResponderFactory factory;
        const Tenant t = sunriseDental();
        auto responder = factory.create(t);
        QSignalSpy deltas(responder.get(), &Responder::textDelta);
        QSignalSpy finished(responder.get(), &Responder::finished);
        responder->respond({QString(), {}, QStringLiteral("what's the weather on mars")});
        QCOMPARE(deltas.size(), 0);
        QVERIFY(finished.wait(1000));
        QString text;
        for (const auto &args : deltas)
            text += args.at(0).toString();
        QCOMPARE(text, t.fallbackLine);
    }

    void smallTalk()
    {
        FaqResponderFactory factory;
        const Tenant t = sunriseDental();
        auto responder = factory.create(t);
        auto *faq = static_cast<FaqResponder *>(responder.get());
        const QString greeting = faq->replyFor(QStringLiteral("hello"));
        QVERIFY(greeting.startsWith(QStringLiteral("Hello")));
        QCOMPARE(faq->replyFor(QStringLiteral("Hi there!")), greeting);
        QCOMPARE(faq->replyFor(QStringLiteral("good morning")), greeting);
        const QString closing = faq->replyFor(QStringLiteral("thank you"));
        QVERIFY(closing.contains(QStringLiteral("goodbye")));
        QCOMPARE(faq->replyFor(QStringLiteral("ok thanks, bye")), closing);
        QCOMPARE(faq->replyFor(QStringLiteral("Bye!")), closing);
        // A greeting in front of a question is a question.
        QCOMPARE(faq->replyFor(QStringLiteral("hello, when are you open?")), t.faq.at(Hours).answer);
        QCOMPARE(faq->replyFor(QStringLiteral("thanks, and do you have parking?")), t.faq.at(Parking).answer);

        Tenant hindi = t;
        hindi.id = QStringLiteral("hindi");
        hindi.language = QStringLiteral("hi");
        auto hindiResponder = factory.create(hindi);
        QVERIFY(static_cast<FaqResponder *>(hindiResponder.get())->replyFor(QStringLiteral("नमस्ते")).startsWith(QStringLiteral("नमस्ते")));
    }

    void cancelStopsSignals()
    {
        FaqResponderFactory factory;
        auto responder = factory.create(sunriseDental());
        QSignalSpy deltas(responder.get(), &Responder::textDelta);
        QSignalSpy finished(responder.get(), &Responder::finished);
        responder->respond({QString(), {}, QStringLiteral("where are you located")});
        responder->cancel();
        QTest::qWait(50);
        QCOMPARE(deltas.size(), 0);
        QCOMPARE(finished.size(), 0);

        // Cancelled from a slot after the first piece (barge-in mid-reply).
        connect(responder.get(), &Responder::textDelta, responder.get(), [&] { responder->cancel(); });
        responder->respond({QString(), {}, QStringLiteral("where are you located")});
        QTest::qWait(50);
        QCOMPARE(deltas.size(), 1);
        QCOMPARE(finished.size(), 0);
    }

    void respondAgainReplacesRequest()
    {
        FaqResponderFactory factory;
        const Tenant t = sunriseDental();
        auto responder = factory.create(t);
        QSignalSpy deltas(responder.get(), &Responder::textDelta);
        QSignalSpy finished(responder.get(), &Responder::finished);
        responder->respond({QString(), {}, QStringLiteral("where are you located")});
        responder->cancel();
        responder->respond({QString(), {}, QStringLiteral("do you take cash")});
        QVERIFY(finished.wait(1000));
        QString text;
        for (const auto &args : deltas)
            text += args.at(0).toString();
        QCOMPARE(text, t.faq.at(Payment).answer);
        QTest::qWait(20);
        QCOMPARE(finished.size(), 1);
    }

private:
    std::shared_ptr<FaqIndex> m_index;
};

QTEST_GUILESS_MAIN(TestFaq)
#include "test_faq.moc"
