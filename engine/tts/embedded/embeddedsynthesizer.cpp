#include "tts/embedded/embeddedsynthesizer.h"

#include "observability/logging.h"
#include "tts/embedded/embeddedsynthesisjob.h"
#include "tts/embedded/synthesisrelay.h"
#include "tts/embedded/synthesistask.h"
#include "tts/embedded/ttsworkerthreads.h"

#include <QDirIterator>
#include <QFileInfo>

#include <condition_variable>
#include <mutex>

namespace apex {

namespace {

const QString kEspeakPrefix = QStringLiteral("espeak:");
const QString kFlitePrefix = QStringLiteral("flite:");

bool isEnglish(const QString &language)
{
    const QString l = language.trimmed().toLower();
    return l.isEmpty() || l == QLatin1String("en") || l.startsWith(QLatin1String("en-"))
        || l.startsWith(QLatin1String("en_"));
}

// Voice names espeak-ng can load, from its data folder. Read once per process so
// supports() and route() never touch the disk on an engine thread after start-up.
const QSet<QString> &espeakVoices()
{
    static const QSet<QString> voices = [] {
        QSet<QString> names;
        QStringList roots;
        if (const QByteArray env = qgetenv("ESPEAK_DATA_PATH"); !env.isEmpty())
            roots << QString::fromLocal8Bit(env) + QStringLiteral("/espeak-ng-data");
        roots << QStringLiteral("/usr/lib/x86_64-linux-gnu/espeak-ng-data") << QStringLiteral("/usr/lib/espeak-ng-data")
              << QStringLiteral("/usr/share/espeak-ng-data") << QStringLiteral("/usr/local/share/espeak-ng-data");
        for (const QString &root : roots) {
            QDirIterator it(root + QStringLiteral("/lang"), QDir::Files, QDirIterator::Subdirectories);
            while (it.hasNext())
                names.insert(QFileInfo(it.next()).fileName().toLower());
            if (!names.isEmpty())
                break;
        }
        return names;
    }();
    return voices;
}

// A voice or BCP-47 tag as espeak-ng knows it: "hi-IN" falls back to "hi".
QString espeakVoiceFor(const QString &name)
{
    const QString lower = name.trimmed().toLower().replace(QLatin1Char('_'), QLatin1Char('-'));
    if (lower.isEmpty())
        return {};
    const QSet<QString> &known = espeakVoices();
    if (known.isEmpty() || known.contains(lower))
        return lower;
    const QString primary = lower.section(QLatin1Char('-'), 0, 0);
    if (known.contains(primary))
        return primary;
    return {};
}

// Sentences come from an LLM: one runaway "sentence" must not occupy the single
// synthesis thread for minutes. Cut at a word boundary.
QString preparedText(const QString &text)
{
    QString prepared = text.simplified();
    if (prepared.size() > EmbeddedSynthesizer::kMaxTextChars) {
        const qsizetype space = prepared.lastIndexOf(QLatin1Char(' '), EmbeddedSynthesizer::kMaxTextChars);
        const qsizetype originalSize = prepared.size();
        prepared.truncate(space > EmbeddedSynthesizer::kMaxTextChars / 2 ? space : EmbeddedSynthesizer::kMaxTextChars);
        log::get("tts")->warn("call=- tenant=- text of {} characters cut to {}", originalSize, prepared.size());
    }
    return prepared;
}

TtsWorkerThreads::Engine workerEngine(EmbeddedSynthesizer::Engine engine)
{
    return engine == EmbeddedSynthesizer::Engine::Flite ? TtsWorkerThreads::Engine::Flite
                                                        : TtsWorkerThreads::Engine::Espeak;
}

} // namespace

EmbeddedSynthesizer::EmbeddedSynthesizer()
    : m_threads(TtsWorkerThreads::acquire())
{
    espeakVoices();
}

EmbeddedSynthesizer::~EmbeddedSynthesizer() = default;

QStringList EmbeddedSynthesizer::fliteVoices()
{
    return {QStringLiteral("awb"), QStringLiteral("rms"), QStringLiteral("slt"), QStringLiteral("kal")};
}

EmbeddedSynthesizer::Route EmbeddedSynthesizer::route(const SynthesisRequest &request)
{
    const QString voice = request.voice.trimmed();
    if (voice.startsWith(kEspeakPrefix, Qt::CaseInsensitive)) {
        const QString name = voice.mid(kEspeakPrefix.size());
        const QString resolved = espeakVoiceFor(name);
        return {Engine::Espeak, !resolved.isEmpty() ? resolved : name.trimmed().toLower()};
    }
    const QString flite = voice.startsWith(kFlitePrefix, Qt::CaseInsensitive) ? voice.mid(kFlitePrefix.size()).toLower()
                                                                              : voice.toLower();
    if (isEnglish(request.language)) {
        // Any other English voice name (an Azure voice when this is the fallback)
        // gets the default flite voice: a different voice beats silence.
        return {Engine::Flite, fliteVoices().contains(flite) ? flite : kDefaultFliteVoice};
    }
    // Other languages: the voice when espeak-ng knows it, else the language.
    if (!fliteVoices().contains(flite)) {
        if (const QString resolved = espeakVoiceFor(voice); !resolved.isEmpty())
            return {Engine::Espeak, resolved};
    }
    const QString byLanguage = espeakVoiceFor(request.language);
    return {Engine::Espeak, !byLanguage.isEmpty() ? byLanguage : request.language.trimmed().toLower()};
}

bool EmbeddedSynthesizer::supports(const SynthesisRequest &request) const
{
    const Route r = route(request);
    if (r.engine == Engine::Flite)
        return fliteVoices().contains(r.voice);
    return !r.voice.isEmpty() && (espeakVoices().isEmpty() || espeakVoices().contains(r.voice));
}

SynthesisJob *EmbeddedSynthesizer::synthesize(const SynthesisRequest &request, QObject *parent)
{
    auto task = std::make_shared<SynthesisTask>();
    auto *job = new EmbeddedSynthesisJob(task->cancelled, parent);
    task->text = preparedText(request.text);
    if (task->text.isEmpty()) {
        job->finishEmpty();
        return job;
    }
    const Route r = route(request);
    task->voice = r.voice;

    auto *relay = new SynthesisRelay;
    job->attach(relay);
    task->onAudio = [relay](const QByteArray &mulaw) { Q_EMIT relay->audio(mulaw); };
    task->onFinished = [relay] { Q_EMIT relay->finished(); };
    task->onFailed = [relay, voice = r.voice](const QString &reason) {
        log::get("tts")->warn("call=- tenant=- synthesis with voice {} failed: {}", voice, reason);
        Q_EMIT relay->failed(reason);
    };
    m_threads->submit(workerEngine(r.engine), std::move(task), relay);
    return job;
}

QByteArray EmbeddedSynthesizer::synthesizeBlocking(const SynthesisRequest &request, QString *error)
{
    const QString text = preparedText(request.text);
    if (text.isEmpty())
        return {};

    struct Outcome
    {
        std::mutex mutex;
        std::condition_variable done;
        bool finished = false;
        QByteArray audio;
        QString error;
    };
    auto outcome = std::make_shared<Outcome>();
    auto complete = [outcome](const QString &reason) {
        std::lock_guard lock(outcome->mutex);
        if (outcome->finished)
            return;
        outcome->finished = true;
        outcome->error = reason;
        outcome->done.notify_all();
    };

    const Route r = route(request);
    auto task = std::make_shared<SynthesisTask>();
    task->text = text;
    task->voice = r.voice;
    task->onAudio = [outcome](const QByteArray &mulaw) {
        std::lock_guard lock(outcome->mutex);
        outcome->audio += mulaw;
    };
    task->onFinished = [complete] { complete({}); };
    task->onFailed = complete;
    // Wakes the caller even if the task is dropped unrun.
    task->keepAlive = std::shared_ptr<void>(nullptr, [complete](void *) {
        complete(QStringLiteral("synthesis was abandoned"));
    });

    auto threads = TtsWorkerThreads::acquire();
    threads->submit(workerEngine(r.engine), std::move(task));
    std::unique_lock lock(outcome->mutex);
    outcome->done.wait(lock, [&] { return outcome->finished; });
    if (!outcome->error.isEmpty()) {
        if (error)
            *error = outcome->error;
        return {};
    }
    return outcome->audio;
}

} // namespace apex
