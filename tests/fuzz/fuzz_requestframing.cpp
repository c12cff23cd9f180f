// The HTTP bytes the engine reads before QHttpServer: any stream, cut anywhere,
// gets a verdict without crashing, and the verdict does not depend on the cuts
// unless the peer pipelined.
#include "http/requestframing.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const qsizetype step = data[0] == 0 ? 1 : data[0];
    const QByteArrayView stream(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);
    FramingLimits limits;
    limits.maxRequestLineBytes = 512;
    limits.maxHeaderBytes = 2048;
    limits.maxHeaderCount = 16;
    limits.maxBodyBytes = 1024;

    RequestFraming framing(limits);
    RequestFraming::Verdict verdict;
    for (qsizetype at = 0; at < stream.size(); at += step) {
        verdict = framing.feed(stream.sliced(at, std::min(step, stream.size() - at)));
        if (verdict.kind == RequestFraming::Verdict::Kind::Rejected && (verdict.status < 400 || verdict.status > 505))
            std::abort();
    }
    return 0;
}
