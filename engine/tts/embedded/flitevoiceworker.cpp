#include "tts/embedded/flitevoiceworker.h"

#include "observability/logging.h"
#include "tts/mulawstreamencoder.h"

extern "C" {
#include <flite/flite.h>

cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_kal(const char *voxdir);
void unregister_cmu_us_awb(cst_voice *voice);
void unregister_cmu_us_rms(cst_voice *voice);
void unregister_cmu_us_slt(cst_voice *voice);
void unregister_cmu_us_kal(cst_voice *voice);
}

namespace apex {

namespace {

struct StreamState
{
    const SynthesisTask *task = nullptr;
    const std::atomic_bool *stopping = nullptr;
    MulawStreamEncoder encoder;
    qint64 samples = 0;
};

// flite calls this as each part of the waveform is ready, so the first bytes
// leave before the whole sentence is synthesised, and a cancelled sentence stops
// early instead of running to the end.
int streamChunk(const cst_wave *wave, int start, int size, int /*last*/, cst_audio_streaming_info *info)
{
    auto *state = static_cast<StreamState *>(info->userdata);
    if (state->task->isCancelled() || state->stopping->load(std::memory_order_relaxed))
        return CST_AUDIO_STREAM_STOP;
    if (size <= 0 || start < 0 || start + size > wave->num_samples)
        return CST_AUDIO_STREAM_CONT;
    state->samples += size;
    const QByteArray mulaw = state->encoder.push(std::span<const std::int16_t>(wave->samples + start, std::size_t(size)),
                                                 wave->sample_rate);
    if (!mulaw.isEmpty())
        state->task->onAudio(mulaw);
    return CST_AUDIO_STREAM_CONT;
}

} // namespace

FliteVoiceWorker::FliteVoiceWorker(std::shared_ptr<std::atomic_bool> stopping)
    : m_stopping(std::move(stopping))
{
}

FliteVoiceWorker::~FliteVoiceWorker() = default;

cst_voice *FliteVoiceWorker::voice(const QString &name)
{
    if (!m_initialized) {
        flite_init();
        m_initialized = true;
    }
    if (cst_voice *existing = m_voices.value(name))
        return existing;
    cst_voice *v = nullptr;
    if (name == QLatin1String("awb"))
        v = register_cmu_us_awb(nullptr);
    else if (name == QLatin1String("rms"))
        v = register_cmu_us_rms(nullptr);
    else if (name == QLatin1String("slt"))
        v = register_cmu_us_slt(nullptr);
    else if (name == QLatin1String("kal"))
        v = register_cmu_us_kal(nullptr);
    if (v) {
        m_voices.insert(name, v);
        log::get("tts")->info("call=- tenant=- flite voice {} registered", name);
    }
    return v;
}

void FliteVoiceWorker::run(const std::shared_ptr<SynthesisTask> &task)
{
    // A cancelled job wants no signal at all, not even failed().
    if (task->isCancelled() || m_stopping->load())
        return;
    cst_voice *v = voice(task->voice);
    if (!v) {
        task->onFailed(QStringLiteral("unknown flite voice \"%1\"").arg(task->voice));
        return;
    }

    StreamState state;
    state.task = task.get();
    state.stopping = m_stopping.get();
    cst_audio_streaming_info *info = new_audio_streaming_info();
    info->asc = streamChunk;
    info->userdata = &state;
    // The feature value owns info and frees it on removal.
    feat_set(v->features, "streaming_info", audio_streaming_info_val(info));

    const QByteArray text = task->text.toUtf8();
    cst_wave *wave = flite_text_to_wave(text.constData(), v);
    feat_remove(v->features, "streaming_info");

    if (task->isCancelled() || m_stopping->load()) {
        delete_wave(wave);
        return;
    }
    // Voices that do not stream deliver everything in the returned wave.
    if (state.samples == 0 && wave && wave->num_samples > 0) {
        const QByteArray mulaw = state.encoder.push(
            std::span<const std::int16_t>(wave->samples, std::size_t(wave->num_samples)), wave->sample_rate);
        if (!mulaw.isEmpty())
            task->onAudio(mulaw);
    }
    delete_wave(wave);
    const QByteArray tail = state.encoder.finish();
    if (!tail.isEmpty())
        task->onAudio(tail);
    task->onFinished();
}

void FliteVoiceWorker::shutdown()
{
    for (auto it = m_voices.cbegin(); it != m_voices.cend(); ++it) {
        if (it.key() == QLatin1String("awb"))
            unregister_cmu_us_awb(it.value());
        else if (it.key() == QLatin1String("rms"))
            unregister_cmu_us_rms(it.value());
        else if (it.key() == QLatin1String("slt"))
            unregister_cmu_us_slt(it.value());
        else if (it.key() == QLatin1String("kal"))
            unregister_cmu_us_kal(it.value());
    }
    m_voices.clear();
}

} // namespace apex
