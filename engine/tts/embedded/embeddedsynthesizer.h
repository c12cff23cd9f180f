#pragma once

#include "tts/speechsynthesizer.h"

#include <QSet>
#include <QString>
#include <QStringList>

#include <memory>

namespace apex {

class TtsWorkerThreads;

// Offline text-to-speech: flite for English (voices awb, rms, slt, kal), espeak-ng
// for every other language or when the voice is spelled "espeak:<name>". Output is
// 8 kHz mu-law. Neither library is thread-safe nor fast, so each runs on its own
// process-wide thread ("tts-flite", "tts-espeak") and results come back as queued
// signals; synthesize() never blocks and may be called from any thread.
class EmbeddedSynthesizer : public SpeechSynthesizer
{
public:
    enum class Engine { Flite, Espeak };

    struct Route
    {
        Engine engine = Engine::Flite;
        QString voice; // flite voice name, or espeak-ng voice/language name
    };

    static constexpr int kMaxTextChars = 2000;
    static inline const QString kDefaultFliteVoice = QStringLiteral("slt");

    EmbeddedSynthesizer();
    ~EmbeddedSynthesizer() override;
    EmbeddedSynthesizer(const EmbeddedSynthesizer &) = delete;
    EmbeddedSynthesizer &operator=(const EmbeddedSynthesizer &) = delete;

    QString name() const override { return QStringLiteral("embedded"); }
    bool supports(const SynthesisRequest &request) const override;
    SynthesisJob *synthesize(const SynthesisRequest &request, QObject *parent) override;

    // Which engine and voice a request goes to. English (or no language) with a
    // flite voice name or none goes to flite; anything else goes to espeak-ng.
    static Route route(const SynthesisRequest &request);
    static QStringList fliteVoices();

    // Whole sentence as 8 kHz mu-law, waiting for the worker thread. For tools
    // and tests off the engine threads only: it blocks the caller for as long
    // as synthesis takes. Returns an empty array and sets *error on failure.
    // Shares the worker threads with any live EmbeddedSynthesizer; without one
    // the engines are initialised and torn down around the call.
    static QByteArray synthesizeBlocking(const SynthesisRequest &request, QString *error = nullptr);

private:
    std::shared_ptr<TtsWorkerThreads> m_threads;
    QSet<QString> m_espeakVoices; // lower-case names found in espeak-ng-data/lang
};

} // namespace apex
