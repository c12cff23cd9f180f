#include "lameencoder.h"

#ifdef APEX_HAVE_LAME
#include <lame/lame.h>
#endif

#include <vector>

namespace apex::test {

bool lameAvailable()
{
#ifdef APEX_HAVE_LAME
    return true;
#else
    return false;
#endif
}

QByteArray encodeMp3(const QVector<std::int16_t> &pcm, int sampleRateHz, int kbps, int channels)
{
#ifdef APEX_HAVE_LAME
    lame_global_flags *lame = lame_init();
    if (!lame)
        return {};
    lame_set_in_samplerate(lame, sampleRateHz);
    lame_set_out_samplerate(lame, sampleRateHz);
    lame_set_num_channels(lame, channels);
    lame_set_mode(lame, channels == 1 ? MONO : JOINT_STEREO);
    lame_set_brate(lame, kbps);
    lame_set_bWriteVbrTag(lame, 0);
    lame_set_quality(lame, 7); // fast: this is test data
    if (lame_init_params(lame) < 0) {
        lame_close(lame);
        return {};
    }
    const int frames = int(pcm.size()) / channels;
    std::vector<unsigned char> out(size_t(frames) * 5 / 4 + 7200 + 1152 * 4);
    int n = channels == 1
        ? lame_encode_buffer(lame, pcm.constData(), nullptr, frames, out.data(), int(out.size()))
        : lame_encode_buffer_interleaved(lame, const_cast<short *>(pcm.constData()), frames, out.data(), int(out.size()));
    QByteArray mp3;
    if (n > 0)
        mp3.append(reinterpret_cast<const char *>(out.data()), n);
    n = lame_encode_flush(lame, out.data(), int(out.size()));
    if (n > 0)
        mp3.append(reinterpret_cast<const char *>(out.data()), n);
    lame_close(lame);
    return mp3;
#else
    Q_UNUSED(pcm);
    Q_UNUSED(sampleRateHz);
    Q_UNUSED(kbps);
    Q_UNUSED(channels);
    return {};
#endif
}

} // namespace apex::test
