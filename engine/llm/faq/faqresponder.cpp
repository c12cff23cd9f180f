#include "llm/faq/faqresponder.h"

#include "observability/logging.h"

#include <QCryptographicHash>
#include <QMutexLocker>
#include <QSet>

namespace apex {

namespace {

QSet<QString> wordSet(std::initializer_list<const char16_t *> list)
{
    QSet<QString> set;
    for (const char16_t *w : list)
        set.insert(QString::fromUtf16(w));
    return set;
}

// Small talk is recognised only when the utterance is nothing but small talk:
// "hello, when are you open" is a question and goes to the FAQ.
enum class SmallTalk { None, Greeting, Closing };

SmallTalk classifySmallTalk(const QStringList &words)
{
    static const QSet<QString> greetings = wordSet({u"hello", u"hi", u"hey", u"hiya", u"hallo", u"helo", u"greetings",
                                                    u"morning", u"afternoon", u"evening", u"namaste", u"namaskar",
                                                    u"नमस्ते", u"नमस्कार", u"हेलो", u"हैलो"});
    static const QSet<QString> greetingFiller = wordSet({u"there", u"good", u"yes", u"yeah", u"ok", u"okay", u"um",
                                                         u"uh", u"ji", u"जी", u"anyone", u"everyone", u"again"});
    static const QSet<QString> closings = wordSet({u"thank", u"thanks", u"thankyou", u"bye", u"goodbye", u"cheers",
                                                   u"dhanyavad", u"dhanyawad", u"shukriya", u"धन्यवाद", u"शुक्रिया",
                                                   u"अलविदा"});
    static const QSet<QString> closingFiller = wordSet({u"you", u"so", u"much", u"very", u"a", u"lot", u"ok", u"okay",
                                                        u"that", u"thats", u"all", u"it", u"great", u"good", u"nice",
                                                        u"have", u"day", u"see", u"ya", u"night", u"for", u"your", u"help",
                                                        u"the", u"alright", u"fine", u"and", u"perfect", u"ji", u"जी",
                                                        u"bahut", u"बहुत", u"then", u"now", u"oh", u"well", u"yes", u"yeah"});
    if (words.isEmpty())
        return SmallTalk::None;
    bool greeting = false;
    bool closing = false;
    bool onlyGreeting = true;
    bool onlyClosing = true;
    for (const QString &w : words) {
        greeting = greeting || greetings.contains(w);
        closing = closing || closings.contains(w);
        onlyGreeting = onlyGreeting && (greetings.contains(w) || greetingFiller.contains(w));
        onlyClosing = onlyClosing && (closings.contains(w) || closingFiller.contains(w) || greetings.contains(w));
    }
    // "ok thanks bye" and "good evening, thank you" both close the call.
    if (closing && onlyClosing)
        return SmallTalk::Closing;
    if (greeting && onlyGreeting)
        return SmallTalk::Greeting;
    return SmallTalk::None;
}

QString greetingLine(const QString &language)
{
    if (language == u"hi")
        return QStringLiteral("नमस्ते! मैं आपकी क्या मदद कर सकती हूँ?");
    return QStringLiteral("Hello! How can I help you today?");
}

QString closingLine(const QString &language)
{
    if (language == u"hi")
        return QStringLiteral("धन्यवाद! कॉल करने के लिए शुक्रिया।");
    return QStringLiteral("You're welcome. Thank you for calling, goodbye!");
}

// Word groups, each carrying the whitespace that follows it, so the pieces
// concatenate back to the reply exactly.
QStringList splitIntoPieces(const QString &text, int wordsPerPiece)
{
    QStringList pieces;
    QString current;
    int wordsInCurrent = 0;
    bool inWord = false;
    for (QChar c : text) {
        const bool space = c.isSpace();
        if (!space && !inWord) {
            if (wordsInCurrent == wordsPerPiece) {
                pieces.append(current);
                current.clear();
                wordsInCurrent = 0;
            }
            ++wordsInCurrent;
        }
        inWord = !space;
        current.append(c);
    }
    if (!current.isEmpty())
        pieces.append(current);
    return pieces;
}

QByteArray faqFingerprint(const Tenant &tenant)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const FaqEntry &e : tenant.faq) {
        hash.addData(e.question.toUtf8());
        hash.addData(QByteArrayView("\x1f", 1));
        hash.addData(e.answer.toUtf8());
        hash.addData(QByteArrayView("\x1f", 1));
        hash.addData(e.keywords.join(u'\x1f').toUtf8());
        hash.addData(QByteArrayView("\x1e", 1));
    }
    return hash.result();
}

} // namespace

FaqResponder::FaqResponder(std::shared_ptr<const FaqIndex> index, const Tenant &tenant, QObject *parent)
    : Responder(parent)
    , m_index(std::move(index))
    , m_tenantId(tenant.id)
    , m_language(tenant.language)
    , m_fallbackLine(tenant.fallbackLine)
{
    m_pump.setSingleShot(true);
    m_pump.setInterval(0);
    connect(&m_pump, &QTimer::timeout, this, &FaqResponder::emitNext);
}

QString FaqResponder::replyFor(const QString &utterance) const
{
    static const auto logger = log::get("llm");
    switch (classifySmallTalk(FaqIndex::words(utterance))) {
    case SmallTalk::Greeting:
        return greetingLine(m_language);
    case SmallTalk::Closing:
        return closingLine(m_language);
    case SmallTalk::None:
        break;
    }
    if (m_index) {
        const QList<FaqMatch> top = m_index->rank(utterance, 1);
        if (!top.isEmpty() && top.first().confidence >= m_index->threshold()) {
            const FaqEntry &entry = m_index->entry(top.first().entryIndex);
            logger->debug("tenant={} faq match \"{}\" confidence {:.2f}", m_tenantId, entry.question, top.first().confidence);
            return entry.answer;
        }
        logger->debug("tenant={} no faq match (best confidence {:.2f})", m_tenantId,
                      top.isEmpty() ? 0.0 : top.first().confidence);
    }
    return m_fallbackLine;
}

void FaqResponder::respond(const ResponderRequest &request)
{
    ++m_generation;
    m_pending = splitIntoPieces(replyFor(request.utterance).trimmed(), wordsPerDelta);
    m_pump.start();
}

void FaqResponder::cancel()
{
    ++m_generation;
    m_pump.stop();
    m_pending.clear();
}

void FaqResponder::emitNext()
{
    const quint64 generation = m_generation;
    if (!m_pending.isEmpty())
        Q_EMIT textDelta(m_pending.takeFirst());
    // A receiver may have cancelled, or started the next request, from its slot:
    // then this request is over and must not say anything more.
    if (generation != m_generation)
        return;
    if (m_pending.isEmpty()) {
        ++m_generation;
        Q_EMIT finished();
        return;
    }
    m_pump.start();
}

std::shared_ptr<const FaqIndex> FaqResponderFactory::indexFor(const Tenant &tenant)
{
    const QByteArray fingerprint = faqFingerprint(tenant);
    QMutexLocker lock(&m_mutex);
    CachedIndex &cached = m_indexes[tenant.id];
    if (!cached.index || cached.fingerprint != fingerprint) {
        cached.index = std::make_shared<const FaqIndex>(tenant.faq);
        cached.fingerprint = fingerprint;
        log::get("llm")->info("tenant={} faq index built: {} entries", tenant.id, tenant.faq.size());
    }
    return cached.index;
}

std::unique_ptr<Responder> FaqResponderFactory::create(const Tenant &tenant)
{
    return std::make_unique<FaqResponder>(indexFor(tenant), tenant);
}

} // namespace apex
