#pragma once

#include <QString>
#include <QStringList>

#include <cstdint>
#include <memory>
#include <span>

struct ps_decoder_s;
struct cmd_ln_s;

namespace apex {

// One pocketsphinx decoder: acoustic model + a language model and dictionary.
// Expensive to make (hundreds of ms, tens of MB), cheap to reuse utterance
// after utterance, so decoders are pooled. Not thread-safe: one thread at a
// time, which may change between utterances.
class PocketsphinxDecoder
{
public:
    struct Files
    {
        QString modelDir;  // folder holding en-us/ (acoustic model); empty: defaultModelDir()
        QString lmPath;    // ARPA text
        QString dictPath;  // CMU dictionary restricted to the LM's words
        // Search options ("-beam", "1e-60", ...) replacing ours; front-end options
        // are overridden by the model's feat.params whatever is passed here.
        QStringList extraArguments;
    };

    // Null with *error set when pocketsphinx refuses the files.
    static std::unique_ptr<PocketsphinxDecoder> create(const Files &files, QString *error = nullptr);
    // $APEX_POCKETSPHINX_MODEL_DIR, else the folder configured at build time.
    static QString defaultModelDir();

    ~PocketsphinxDecoder();
    PocketsphinxDecoder(const PocketsphinxDecoder &) = delete;
    PocketsphinxDecoder &operator=(const PocketsphinxDecoder &) = delete;

    static constexpr int kSampleRateHz = 16000;

    bool startUtterance();
    bool process(std::span<const std::int16_t> pcm16k);
    // The best path so far (during an utterance) or of the last one (after it).
    QString hypothesis() const;
    // Ends the utterance and returns its final hypothesis ("" when nothing was heard).
    QString endUtterance();
    bool inUtterance() const { return m_inUtterance; }

private:
    PocketsphinxDecoder() = default;

    ps_decoder_s *m_decoder = nullptr;
    bool m_inUtterance = false;
};

} // namespace apex
