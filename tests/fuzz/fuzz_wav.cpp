// WAV files as a user or a provider might hand them over, truncated or forged:
// parsing must refuse cleanly or give samples that fit in what was read.
#include "audio/wav.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex;
using namespace apex::audio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    WavError error;
    const auto audio = Wav::parse(bytes, &error);
    // Every sample comes from the file: at worst one per byte (8-bit µ-law/PCM).
    if (audio && audio->samples.size() > bytes.size())
        std::abort();
    return 0;
}
