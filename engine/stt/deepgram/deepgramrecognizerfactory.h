#pragma once

#include "stt/deepgram/deepgramrecognizer.h"
#include "stt/deepgram/deepgramsettings.h"
#include "stt/speechrecognizer.h"

namespace apex {

// The cloud STT provider ("deepgram"). Holds no per-tenant state: the tenant's
// language and endpointing go into each call's query. create() never blocks and
// must be called on the call's engine thread, where the socket will live.
class DeepgramRecognizerFactory : public SpeechRecognizerFactory
{
public:
    explicit DeepgramRecognizerFactory(DeepgramSettings settings);

    QString name() const override { return QStringLiteral("deepgram"); }
    void prepareTenant(const Tenant &tenant) override;
    std::unique_ptr<SpeechRecognizer> create(const Tenant &tenant, const QString &callId) override;
    std::unique_ptr<DeepgramRecognizer> createRecognizer(const DeepgramCallSettings &call);

    const DeepgramSettings &settings() const { return m_settings; }

private:
    const DeepgramSettings m_settings;
};

} // namespace apex
