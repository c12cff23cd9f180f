#include "runtime/prewarmer.h"

#include "observability/logging.h"
#include "pipeline/sentencesplitter.h"
#include "ttscache/cachingsynthesizer.h"
#include "ttscache/ttscachejob.h"

#include <QRegularExpression>
#include <QStringView>
#include <QSet>

namespace apex {

QJsonObject Prewarmer::Stats::toJson() const
{
    return QJsonObject{{QStringLiteral("tenant"), tenantId},
                       {QStringLiteral("total"), total},
                       {QStringLiteral("alreadyCached"), alreadyCached},
                       {QStringLiteral("synthesized"), synthesized},
                       {QStringLiteral("failed"), failed},
                       {QStringLiteral("bytesSynthesized"), double(bytesSynthesized)},
                       {QStringLiteral("elapsedMs"), double(elapsedMs)},
                       {QStringLiteral("cancelled"), cancelled}};
}

Prewarmer::Prewarmer(CachingSynthesizer *synthesizer, QObject *parent)
    : Prewarmer(synthesizer, Settings{}, parent)
{
}

Prewarmer::Prewarmer(CachingSynthesizer *synthesizer, Settings settings, QObject *parent)
    : QObject(parent)
    , m_synthesizer(synthesizer)
    , m_settings(settings)
{
    m_pause.setSingleShot(true);
    connect(&m_pause, &QTimer::timeout, this, &Prewarmer::pump);
}

Prewarmer::~Prewarmer()
{
    for (const auto &job : std::as_const(m_active))
        if (job)
            job->cancel();
}

QStringList Prewarmer::fixedPhrases(const QString &systemPrompt)
{
    static const QRegularExpression letter(QStringLiteral("\\p{L}"));
    QStringList out;
    auto take = [&](QStringView span) {
        const QString text = span.trimmed().toString();
        if (text.contains(letter))
            out.append(text);
    };
    // Quotes pair up within one line only, in order (1st with 2nd, 3rd with
    // 4th), so a stray or empty quote cannot swallow the prose around it.
    for (QStringView line : QStringView(systemPrompt).split(QLatin1Char('\n'))) {
        qsizetype open = -1;
        for (qsizetype i = 0; i < line.size(); ++i) {
            const QChar c = line.at(i);
            if (c == QLatin1Char('"')) {
                if (open < 0) {
                    open = i;
                } else {
                    take(line.sliced(open + 1, i - open - 1));
                    open = -1;
                }
            } else if (c == QChar(0x201C)) {
                open = i;
            } else if (c == QChar(0x201D) && open >= 0) {
                take(line.sliced(open + 1, i - open - 1));
                open = -1;
            }
        }
    }
    return out;
}

QStringList Prewarmer::phrasesFor(const Tenant &tenant)
{
    QStringList texts{tenant.greeting};
    for (const FaqEntry &entry : tenant.faq)
        texts.append(entry.answer);
    texts.append(tenant.fallbackLine);
    texts.append(tenant.holdLine);
    texts.append(tenant.goodbyeLine);
    texts.append(fixedPhrases(tenant.systemPrompt));

    QStringList sentences;
    QSet<QString> seen;
    for (const QString &text : std::as_const(texts)) {
        if (text.trimmed().isEmpty())
            continue;
        // A fresh splitter per text, push then flush: what CallSession does for
        // the greeting and the fallback line, and what a streamed FAQ answer
        // yields too (the splitter's output does not depend on chunking).
        SentenceSplitter splitter;
        QStringList parts = splitter.push(text);
        parts += splitter.flush();
        for (const QString &sentence : std::as_const(parts)) {
            const QString normalized = TtsCacheKey::normalizeText(sentence);
            if (!normalized.isEmpty() && !seen.contains(normalized)) {
                seen.insert(normalized);
                sentences.append(sentence);
            }
        }
    }
    return sentences;
}

void Prewarmer::start(const Tenant &tenant)
{
    if (m_running)
        cancel();
    m_tenant = tenant;
    m_phrases = phrasesFor(tenant);
    m_next = 0;
    m_stats = Stats{};
    m_stats.tenantId = tenant.id;
    m_stats.total = int(m_phrases.size());
    m_running = true;
    m_finishing = false;
    m_clock.start();
    log::get("tts")->info("call=- tenant={} pre-warming {} sentences", tenant.id, m_stats.total);
    QMetaObject::invokeMethod(this, &Prewarmer::pump, Qt::QueuedConnection);
}

void Prewarmer::cancel()
{
    if (!m_running || m_finishing)
        return;
    m_stats.cancelled = true;
    m_pause.stop();
    const auto active = m_active;
    m_active.clear();
    for (const auto &job : active) {
        if (job) {
            job->cancel();
            job->deleteLater();
        }
    }
    finish();
}

void Prewarmer::pump()
{
    if (!m_running || m_finishing || m_pause.isActive())
        return;
    while (m_active.size() < std::max(1, m_settings.maxConcurrent) && m_next < m_phrases.size()) {
        const SynthesisRequest request{m_phrases.at(m_next++), m_tenant.voice, m_tenant.language, m_tenant.id};
        SynthesisJob *job = m_synthesizer->synthesize(request, this, TtsCache::Purpose::Prewarm);
        m_active.append(job);
        auto bytes = std::make_shared<qint64>(0);
        connect(job, &SynthesisJob::audio, this, [bytes](const QByteArray &a) { *bytes += a.size(); });
        connect(job, &SynthesisJob::finished, this, [this, job, bytes] {
            if (auto *cached = qobject_cast<TtsCacheJob *>(job);
                cached && cached->source() == TtsCacheJob::Source::Synthesis)
                m_stats.bytesSynthesized += *bytes;
            onJobEnded(job, true);
        });
        connect(job, &SynthesisJob::failed, this, [this, job, request](const QString &reason) {
            log::get("tts")->warn("call=- tenant={} pre-warm of \"{}\" failed: {}", m_tenant.id, request.text, reason);
            onJobEnded(job, false);
        });
    }
    if (m_active.isEmpty() && m_next >= m_phrases.size())
        finish();
}

void Prewarmer::onJobEnded(SynthesisJob *job, bool ok)
{
    m_active.removeAll(job);
    job->deleteLater();
    const auto *cached = qobject_cast<TtsCacheJob *>(job);
    // Only real work earns a pause: hits are cheap and should fly through.
    bool synthesized = false;
    if (!ok) {
        ++m_stats.failed;
    } else if (cached && (cached->source() == TtsCacheJob::Source::Memory
                          || cached->source() == TtsCacheJob::Source::Redis)) {
        ++m_stats.alreadyCached;
    } else {
        ++m_stats.synthesized;
        synthesized = true;
    }
    Q_EMIT progress(m_stats.done(), m_stats.total);
    if (synthesized && m_settings.pauseAfterSynthesisMs > 0 && m_next < m_phrases.size())
        m_pause.start(m_settings.pauseAfterSynthesisMs);
    else
        pump();
}

void Prewarmer::finish()
{
    m_finishing = true;
    auto emitFinished = [this] {
        m_running = false;
        m_finishing = false;
        m_stats.elapsedMs = m_clock.elapsed();
        log::get("tts")->info("call=- tenant={} pre-warm {}: {} cached already, {} synthesised, {} failed in {} ms",
                              m_stats.tenantId, m_stats.cancelled ? "cancelled" : "done", m_stats.alreadyCached,
                              m_stats.synthesized, m_stats.failed, m_stats.elapsedMs);
        Q_EMIT finished(m_stats);
    };
    if (m_stats.cancelled)
        QMetaObject::invokeMethod(this, emitFinished, Qt::QueuedConnection);
    else
        m_synthesizer->cache()->whenWritesFlushed(this, emitFinished, m_settings.flushTimeoutMs);
}

} // namespace apex
