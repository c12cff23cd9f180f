#pragma once

#include "tts/speechsynthesizer.h"

#include <QAtomicInt>
#include <QList>
#include <QPointer>
#include <QTimer>

#include <functional>

namespace apex::test {

// A SpeechSynthesizer that counts its calls and produces deterministic audio
// for a text. Automatic mode plays `chunks` chunks `intervalMs` apart; manual
// mode leaves every job waiting for the test to push chunks and finish or fail.
class CountingJob : public SynthesisJob
{
    Q_OBJECT
public:
    CountingJob(QList<QByteArray> chunks, int intervalMs, bool automatic, QObject *parent)
        : SynthesisJob(parent)
        , m_chunks(std::move(chunks))
    {
        if (!automatic)
            return;
        m_timer.setInterval(intervalMs);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            if (m_next < m_chunks.size()) {
                pushChunk(m_chunks.at(m_next++));
            } else {
                m_timer.stop();
                finish();
            }
        });
        m_timer.start();
    }

    void cancel() override
    {
        cancelled = true;
        m_timer.stop();
    }
    void pushChunk(const QByteArray &chunk)
    {
        if (!cancelled)
            Q_EMIT audio(chunk);
    }
    // Pushes what is left of the deterministic audio, then finishes.
    void playRest()
    {
        while (m_next < m_chunks.size())
            pushChunk(m_chunks.at(m_next++));
        finish();
    }
    void pushNext()
    {
        if (m_next < m_chunks.size())
            pushChunk(m_chunks.at(m_next++));
    }
    void finish()
    {
        if (!cancelled)
            Q_EMIT finished();
    }
    void fail(const QString &reason)
    {
        if (!cancelled)
            Q_EMIT failed(reason);
    }

    bool cancelled = false;

private:
    QList<QByteArray> m_chunks;
    int m_next = 0;
    QTimer m_timer;
};

class CountingSynthesizer : public SpeechSynthesizer
{
public:
    bool automatic = true;
    int intervalMs = 5;
    int chunkCount = 3;
    int chunkBytes = 320;
    QAtomicInt calls = 0;
    QList<QPointer<CountingJob>> jobs; // manual mode: the test drives these
    // Overrides the deterministic audio for a text when set.
    std::function<QList<QByteArray>(const QString &text)> audioFor;

    QString name() const override { return QStringLiteral("counting"); }
    bool supports(const SynthesisRequest &) const override { return true; }
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override
    {
        calls.ref();
        auto *job = new CountingJob(audioFor ? audioFor(request.text) : defaultAudio(request.text), intervalMs,
                                    automatic, parent);
        jobs.append(job);
        return job;
    }

    QList<QByteArray> defaultAudio(const QString &text) const
    {
        QList<QByteArray> out;
        const uint seed = qHash(text);
        for (int c = 0; c < chunkCount; ++c) {
            QByteArray chunk(chunkBytes, Qt::Uninitialized);
            for (int i = 0; i < chunkBytes; ++i)
                chunk[i] = char((seed >> (i % 24)) + uint(c * 31 + i * 7));
            out.append(chunk);
        }
        return out;
    }
    QByteArray wholeAudio(const QString &text) const { return defaultAudio(text).join(); }
};

} // namespace apex::test
