#include "stt/pocketsphinx/pocketsphinxtranscriber.h"

#include "audio/g711.h"
#include "audio/resampler.h"
#include "stt/pocketsphinx/pocketsphinxdecoder.h"
#include "stt/pocketsphinx/pocketsphinxmodelpool.h"
#include "stt/pocketsphinx/pronunciationdictionary.h"

#include <QDir>
#include <QElapsedTimer>

namespace apex {

PocketsphinxTranscriber::PocketsphinxTranscriber(const QStringList &sentencesForLm, const QString &modelDir)
{
    const QString dictionaryPath = modelDir.isEmpty()
        ? PronunciationDictionary::defaultPath()
        : QDir(modelDir).filePath(QStringLiteral("cmudict-en-us.dict"));
    PocketsphinxModelPool::Settings settings;
    settings.modelDir = modelDir;
    settings.maxIdleDecoders = 1;
    m_pool = std::make_shared<PocketsphinxModelPool>(
        QStringLiteral("transcriber"), sentencesForLm,
        [dictionaryPath](QString *error) { return PronunciationDictionary::load(dictionaryPath, error); }, settings);
    m_pool->prepare(&m_error);
}

PocketsphinxTranscriber::~PocketsphinxTranscriber() = default;

bool PocketsphinxTranscriber::isValid() const
{
    return m_error.isEmpty();
}

QStringList PocketsphinxTranscriber::vocabulary() const
{
    return m_pool->vocabulary();
}

PocketsphinxTranscriber::Result PocketsphinxTranscriber::transcribe(std::span<const std::int16_t> pcm, int sampleRateHz)
{
    Result result;
    QVector<std::int16_t> resampled;
    if (sampleRateHz != PocketsphinxDecoder::kSampleRateHz) {
        resampled = audio::Resampler::convert(pcm, sampleRateHz, PocketsphinxDecoder::kSampleRateHz);
        pcm = std::span<const std::int16_t>(resampled.constData(), size_t(resampled.size()));
    }
    result.audioSeconds = double(pcm.size()) / PocketsphinxDecoder::kSampleRateHz;

    const auto decoder = m_pool->borrow(&result.error);
    if (!decoder)
        return result;
    QElapsedTimer timer;
    timer.start();
    // Two passes: live cepstral mean normalisation starts from the model's
    // wide-band prior and mishears the first seconds of telephone-band audio;
    // the first pass only teaches it this recording's channel.
    for (int pass = 0; pass < 2; ++pass) {
        decoder->startUtterance();
        // Fed in 100 ms pieces as the recognizer feeds it, so both decode alike.
        constexpr size_t kChunk = PocketsphinxDecoder::kSampleRateHz / 10;
        for (size_t offset = 0; offset < pcm.size(); offset += kChunk)
            decoder->process(pcm.subspan(offset, std::min(kChunk, pcm.size() - offset)));
        result.text = decoder->endUtterance();
    }
    result.decodeSeconds = timer.nsecsElapsed() / 1e9;
    return result;
}

PocketsphinxTranscriber::Result PocketsphinxTranscriber::transcribeMulaw(QByteArrayView mulaw8k)
{
    const QVector<std::int16_t> pcm8k = audio::g711::decodeMulaw(mulaw8k);
    return transcribe(std::span<const std::int16_t>(pcm8k.constData(), size_t(pcm8k.size())), 8000);
}

QString PocketsphinxTranscriber::transcribeBlocking(const QStringList &sentencesForLm,
                                                    const QVector<std::int16_t> &pcm16k)
{
    PocketsphinxTranscriber transcriber(sentencesForLm);
    return transcriber.transcribe(std::span<const std::int16_t>(pcm16k.constData(), size_t(pcm16k.size()))).text;
}

QString PocketsphinxTranscriber::transcribeMulawBlocking(const QStringList &sentencesForLm, QByteArrayView mulaw8k)
{
    PocketsphinxTranscriber transcriber(sentencesForLm);
    return transcriber.transcribeMulaw(mulaw8k).text;
}

} // namespace apex
