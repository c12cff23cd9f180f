#pragma once

#include "tts/speechsynthesizer.h"

namespace apex {

// Silence is the worst outcome: a sentence whose primary synthesis fails before
// any audio arrived is spoken by the fallback instead (Azure -> flite/espeak-ng).
// A failure after audio started is passed on: replaying the sentence from the
// top in another voice would be worse than a cut.
class FallbackSynthesizer : public SpeechSynthesizer
{
public:
    FallbackSynthesizer(SpeechSynthesizer *primary, SpeechSynthesizer *fallback);

    QString name() const override;
    bool supports(const SynthesisRequest &request) const override;
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override;

private:
    SpeechSynthesizer *m_primary;
    SpeechSynthesizer *m_fallback;
};

} // namespace apex
