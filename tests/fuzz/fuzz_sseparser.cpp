// text/event-stream from an LLM server, split at fuzzer-chosen points: the
// events must not depend on where the reads were cut.
#include "llm/openai/sseparser.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const qsizetype split = data[0];
    const QByteArrayView stream(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);

    SseParser whole(4096);
    QList<SseEvent> a = whole.feed(stream);
    a += whole.finish();

    SseParser pieces(4096);
    QList<SseEvent> b;
    const qsizetype step = split == 0 ? 1 : split;
    for (qsizetype at = 0; at < stream.size(); at += step)
        b += pieces.feed(stream.sliced(at, std::min(step, stream.size() - at)));
    b += pieces.finish();

    if (whole.hasError() != pieces.hasError())
        std::abort();
    if (!whole.hasError() && a != b)
        std::abort();
    return 0;
}
