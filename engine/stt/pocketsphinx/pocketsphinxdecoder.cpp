#include "stt/pocketsphinx/pocketsphinxdecoder.h"

#include "observability/logging.h"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include <QDir>
#include <QFileInfo>

#include <cstdarg>
#include <mutex>

namespace apex {

namespace {

// sphinxbase logs through one process-wide callback. Its INFO stream is
// hundreds of lines per decoder, so only warnings and errors reach our log.
// Installed once, before the first decoder: err_set_* are not thread-safe.
// (We never pass -logfn: ps_init would then swap the global log FILE under
// decoders being created on other threads.)
void forwardSphinxLog(void *, err_lvl_t level, const char *format, ...)
{
    if (level < ERR_WARN)
        return;
    char buffer[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buffer, sizeof buffer, format, args);
    va_end(args);
    std::string_view text(buffer);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    if (text.empty())
        return;
    if (level == ERR_WARN)
        log::get("stt")->debug("pocketsphinx: {}", text);
    else
        log::get("stt")->warn("pocketsphinx: {}", text);
}

void quietSphinxLogs()
{
    static std::once_flag once;
    std::call_once(once, [] {
        // The configuration dump at ps_init goes straight to the log FILE, not the callback.
        err_set_logfp(nullptr);
        err_set_callback(forwardSphinxLog, nullptr);
    });
}

} // namespace

QString PocketsphinxDecoder::defaultModelDir()
{
    const QString fromEnvironment = qEnvironmentVariable("APEX_POCKETSPHINX_MODEL_DIR");
    if (!fromEnvironment.isEmpty())
        return fromEnvironment;
#ifdef APEX_POCKETSPHINX_MODEL_DIR
    return QStringLiteral(APEX_POCKETSPHINX_MODEL_DIR);
#else
    return QStringLiteral("/usr/share/pocketsphinx/model/en-us");
#endif
}

std::unique_ptr<PocketsphinxDecoder> PocketsphinxDecoder::create(const Files &files, QString *error)
{
    quietSphinxLogs();
    const QString modelDir = files.modelDir.isEmpty() ? defaultModelDir() : files.modelDir;
    const QString hmm = QDir(modelDir).filePath(QStringLiteral("en-us"));
    if (!QFileInfo(hmm).isDir()) {
        if (error)
            *error = QStringLiteral("pocketsphinx acoustic model not found at %1").arg(hmm);
        return nullptr;
    }
    // Beams a little narrower than the defaults: the tenant vocabulary is small,
    // so the search stays accurate and runs many times faster than real time.
    // Front-end options (-cmn, -upperf, ...) are not ours to set: the model's
    // feat.params overrides them. Its batch CMN is fine for streaming, because
    // sphinxbase switches to running (prior) CMN when fed block by block.
    QList<QByteArray> arguments = {
        "-hmm", QFile::encodeName(hmm),
        "-lm", QFile::encodeName(files.lmPath),
        "-dict", QFile::encodeName(files.dictPath),
        "-samprate", "16000",
        "-beam", "1e-40",
        "-wbeam", "1e-30",
        "-pbeam", "1e-40",
        "-maxhmmpf", "10000",
    };
    const QStringList &extra = files.extraArguments;
    // pocketsphinx rejects an option given twice: a caller's value replaces ours.
    for (qsizetype i = 0; i + 1 < extra.size(); i += 2) {
        const QByteArray name = extra.at(i).toUtf8();
        const QByteArray value = extra.at(i + 1).toUtf8();
        const qsizetype existing = arguments.indexOf(name);
        if (existing >= 0 && existing % 2 == 0)
            arguments[existing + 1] = value;
        else
            arguments << name << value;
    }
    std::vector<char *> argv;
    for (QByteArray &argument : arguments)
        argv.push_back(argument.data());
    cmd_ln_t *config = cmd_ln_parse_r(nullptr, ps_args(), int(argv.size()), argv.data(), TRUE);
    if (!config) {
        if (error)
            *error = QStringLiteral("pocketsphinx rejected its configuration");
        return nullptr;
    }
    ps_decoder_t *ps = ps_init(config);
    cmd_ln_free_r(config); // ps_init took its own reference
    if (!ps) {
        if (error)
            *error = QStringLiteral("pocketsphinx could not load %1 with %2").arg(files.lmPath, files.dictPath);
        return nullptr;
    }
    std::unique_ptr<PocketsphinxDecoder> decoder(new PocketsphinxDecoder);
    decoder->m_decoder = ps;
    return decoder;
}

PocketsphinxDecoder::~PocketsphinxDecoder()
{
    if (m_inUtterance)
        ps_end_utt(m_decoder);
    ps_free(m_decoder);
}

bool PocketsphinxDecoder::startUtterance()
{
    if (m_inUtterance)
        ps_end_utt(m_decoder);
    m_inUtterance = ps_start_utt(m_decoder) == 0;
    return m_inUtterance;
}

bool PocketsphinxDecoder::process(std::span<const std::int16_t> pcm16k)
{
    if (!m_inUtterance)
        return false;
    if (pcm16k.empty())
        return true;
    return ps_process_raw(m_decoder, pcm16k.data(), pcm16k.size(), FALSE, FALSE) >= 0;
}

QString PocketsphinxDecoder::hypothesis() const
{
    int32 score = 0;
    const char *text = ps_get_hyp(m_decoder, &score);
    return text ? QString::fromUtf8(text).simplified() : QString();
}

QString PocketsphinxDecoder::endUtterance()
{
    if (!m_inUtterance)
        return {};
    ps_end_utt(m_decoder);
    m_inUtterance = false;
    return hypothesis();
}

} // namespace apex
