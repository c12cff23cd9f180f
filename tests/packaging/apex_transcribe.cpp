// apex-transcribe CONFIG WAV: what the agent said in a recording written by
// `apex-call --record`, heard back through pocketsphinx with a language model of
// the default tenant's fixed sentences (greeting, fallback line, FAQ answers).
// The package test uses it to check that the installed engine answered the
// question it was asked; it is a test tool, never installed.
#include "audio/wav.h"
#include "stt/pocketsphinx/pocketsphinxtranscriber.h"
#include "tenancy/engineconfig.h"

#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    QTextStream err(stderr);
    if (args.size() != 3) {
        err << "usage: apex-transcribe CONFIG.json AGENT.wav\n";
        return 2;
    }
    apex::ConfigError configError;
    const auto config = apex::EngineConfigLoader::loadFile(args.at(1), &configError);
    if (!config) {
        err << configError.message << "\n";
        return 2;
    }
    QStringList sentences;
    for (const auto &tenant : config->tenants) {
        if (tenant.id != config->defaultTenantId)
            continue;
        sentences << tenant.greeting << tenant.fallbackLine;
        for (const auto &entry : tenant.faq)
            sentences << entry.answer;
    }
    apex::audio::WavError wavError;
    const auto audio = apex::audio::Wav::read(args.at(2), &wavError);
    if (!audio) {
        err << args.at(2) << ": " << wavError.message << "\n";
        return 2;
    }
    apex::PocketsphinxTranscriber transcriber(sentences);
    if (!transcriber.isValid()) {
        err << "transcriber: " << transcriber.errorString() << "\n";
        return 2;
    }
    const auto result = transcriber.transcribe(audio->samples, audio->sampleRateHz);
    if (!result.error.isEmpty()) {
        err << "transcriber: " << result.error << "\n";
        return 2;
    }
    QTextStream(stdout) << result.text << "\n";
    return 0;
}
