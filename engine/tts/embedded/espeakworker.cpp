#include "tts/embedded/espeakworker.h"

#include "observability/logging.h"
#include "tts/mulawstreamencoder.h"

#include <espeak-ng/speak_lib.h>


namespace apex {

namespace {

struct StreamState
{
    const SynthesisTask *task = nullptr;
    const std::atomic_bool *stopping = nullptr;
    MulawStreamEncoder encoder;
    int sampleRateHz = 0;
};

// espeak-ng hands over one buffer (buflength ms) at a time, with the espeak_Synth
// user_data on every event; returning 1 aborts the sentence.
int synthCallback(short *wav, int samples, espeak_EVENT *events)
{
    StreamState *state = nullptr;
    for (espeak_EVENT *e = events; e && e->type != espeakEVENT_LIST_TERMINATED; ++e) {
        if (e->user_data) {
            state = static_cast<StreamState *>(e->user_data);
            break;
        }
    }
    if (!state && events)
        state = static_cast<StreamState *>(events->user_data);
    if (!state)
        return 0;
    if (state->task->isCancelled() || state->stopping->load(std::memory_order_relaxed))
        return 1;
    if (wav && samples > 0) {
        const QByteArray mulaw = state->encoder.push(std::span<const std::int16_t>(wav, std::size_t(samples)),
                                                     state->sampleRateHz);
        if (!mulaw.isEmpty())
            state->task->onAudio(mulaw);
    }
    return 0;
}

// espeak-ng is initialised once per process and never terminated: 1.51 hangs in
// espeak_Terminate (joining its internal fifo thread) when it had been
// initialised a second time. Only the current espeak worker thread touches this,
// and TtsWorkerThreads joins the old thread before a new one starts.
int s_sampleRateHz = 0; // 0: not yet, -1: failed

} // namespace

EspeakWorker::EspeakWorker(std::shared_ptr<std::atomic_bool> stopping)
    : m_stopping(std::move(stopping))
{
}

EspeakWorker::~EspeakWorker() = default;

bool EspeakWorker::ensureInitialized()
{
    if (s_sampleRateHz == 0) {
        // DONT_EXIT: without it espeak-ng calls exit() when its data is missing.
        const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, nullptr, espeakINITIALIZE_DONT_EXIT);
        s_sampleRateHz = rate > 0 ? rate : -1;
        if (s_sampleRateHz > 0) {
            espeak_SetSynthCallback(synthCallback);
            log::get("tts")->info("call=- tenant=- espeak-ng {} initialised at {} Hz", espeak_Info(nullptr), rate);
        } else {
            log::get("tts")->error("call=- tenant=- espeak-ng failed to initialise ({})", rate);
        }
    }
    m_sampleRateHz = s_sampleRateHz;
    return m_sampleRateHz > 0;
}

bool EspeakWorker::selectVoice(const QString &name)
{
    if (name == m_currentVoice)
        return true;
    const QByteArray utf8 = name.toUtf8();
    // By name only: espeak_SetVoiceByProperties would take "no-such-voice" for
    // Norwegian. Languages were already mapped to voice file names by route().
    if (espeak_SetVoiceByName(utf8.constData()) != EE_OK)
        return false;
    m_currentVoice = name;
    return true;
}

void EspeakWorker::run(const std::shared_ptr<SynthesisTask> &task)
{
    if (task->isCancelled() || m_stopping->load())
        return;
    if (!ensureInitialized()) {
        task->onFailed(QStringLiteral("espeak-ng is not available"));
        return;
    }
    if (!selectVoice(task->voice)) {
        task->onFailed(QStringLiteral("unknown espeak-ng voice \"%1\"").arg(task->voice));
        return;
    }
    StreamState state;
    state.task = task.get();
    state.stopping = m_stopping.get();
    state.sampleRateHz = m_sampleRateHz;
    const QByteArray text = task->text.toUtf8();
    const espeak_ERROR result = espeak_Synth(text.constData(), size_t(text.size()) + 1, 0, POS_CHARACTER, 0,
                                             espeakCHARS_UTF8, nullptr, &state);
    if (task->isCancelled() || m_stopping->load())
        return;
    if (result != EE_OK) {
        task->onFailed(QStringLiteral("espeak-ng synthesis failed (%1)").arg(int(result)));
        return;
    }
    const QByteArray tail = state.encoder.finish();
    if (!tail.isEmpty())
        task->onAudio(tail);
    task->onFinished();
}

void EspeakWorker::shutdown()
{
    // Deliberately no espeak_Terminate(): see s_sampleRateHz.
    m_currentVoice.clear();
}

} // namespace apex
