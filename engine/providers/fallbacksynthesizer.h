#pragma once

#include "providers/breakerpass.h"
#include "tts/speechsynthesizer.h"

#include <memory>

namespace apex {

struct SynthesisGovernance
{
    std::shared_ptr<CircuitBreaker> breaker;
    // No first audio this long after the request: the fallback voice speaks the
    // sentence and whatever the primary sends later is dropped.
    int firstAudioDeadlineMs = 1000;
    // Audio stopped this long mid-sentence: the primary is given up on and the
    // fallback voice speaks the sentence.
    int stallMs = 600;
};

// Silence is the worst outcome: a sentence whose primary synthesis fails, is
// refused by an open breaker, is too slow to start or stalls is spoken by the
// fallback instead (Azure -> flite/espeak-ng). After audio started, the
// fallback speaks the sentence from its start: hearing its beginning twice, in
// another voice, is better than losing its end.
class FallbackSynthesizer : public SpeechSynthesizer
{
public:
    FallbackSynthesizer(SpeechSynthesizer *primary, SpeechSynthesizer *fallback, SynthesisGovernance governance = {});

    QString name() const override;
    bool supports(const SynthesisRequest &request) const override;
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override;

private:
    SpeechSynthesizer *m_primary;
    SpeechSynthesizer *m_fallback;
    SynthesisGovernance m_governance;
};

} // namespace apex
