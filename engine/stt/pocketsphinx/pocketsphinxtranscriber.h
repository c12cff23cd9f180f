#pragma once

#include <QByteArrayView>
#include <QString>
#include <QStringList>
#include <QVector>

#include <cstdint>
#include <memory>
#include <span>

namespace apex {

class PocketsphinxModelPool;

// Whole-buffer, blocking transcription for tests and tools (never the call
// path): builds a language model from the given sentences and decodes audio
// with it. The end-to-end suite uses it to check what the agent said, with a
// model built from the FAQ answers.
class PocketsphinxTranscriber
{
public:
    struct Result
    {
        QString text;
        double audioSeconds = 0;
        double decodeSeconds = 0; // wall time in pocketsphinx
        QString error;            // non-empty: no decoder could be made
        double realTimeFactor() const { return audioSeconds > 0 ? decodeSeconds / audioSeconds : 0; }
    };

    // Loads cmudict and one decoder: a few hundred ms.
    explicit PocketsphinxTranscriber(const QStringList &sentencesForLm, const QString &modelDir = {});
    ~PocketsphinxTranscriber();

    bool isValid() const;
    QString errorString() const { return m_error; }
    QStringList vocabulary() const;

    Result transcribe(std::span<const std::int16_t> pcm, int sampleRateHz = 16000);
    Result transcribeMulaw(QByteArrayView mulaw8k);

    static QString transcribeBlocking(const QStringList &sentencesForLm, const QVector<std::int16_t> &pcm16k);
    static QString transcribeMulawBlocking(const QStringList &sentencesForLm, QByteArrayView mulaw8k);

private:
    std::shared_ptr<PocketsphinxModelPool> m_pool;
    QString m_error;
};

} // namespace apex
