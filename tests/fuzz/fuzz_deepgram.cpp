// Deepgram's server messages as a hostile or broken peer would send them: the
// input is split at newlines into messages, each read and fed to the turn
// assembler as the recognizer does. Nothing may crash, and a turn's final text
// is only ever what the results said.
#include "stt/deepgram/deepgrammessage.h"
#include "stt/deepgram/deepgramturnassembler.h"

#include <QList>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString input = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    DeepgramTurnAssembler turn;
    qsizetype heard = 0; // characters of transcript the results carried so far
    for (const QString &line : input.split(QLatin1Char('\n'))) {
        const DeepgramMessage message = DeepgramMessage::parse(line);
        DeepgramTurnAssembler::Update update;
        switch (message.type) {
        case DeepgramMessage::Type::Results: {
            DeepgramTurnAssembler::Result result;
            result.transcript = message.transcript;
            result.isFinal = message.isFinal;
            result.speechFinal = message.speechFinal;
            result.lastWordEndSec = message.lastWordEnd;
            heard += message.transcript.size() + 1;
            update = turn.onResults(result);
            break;
        }
        case DeepgramMessage::Type::SpeechStarted: update = turn.onSpeechStarted(); break;
        case DeepgramMessage::Type::UtteranceEnd: update = turn.onUtteranceEnd(message.utteranceLastWordEnd); break;
        default: break;
        }
        // A final is assembled from the results' own words: it cannot be
        // longer than everything they said (joined with spaces).
        if (update.finalText && update.finalText->size() > heard)
            std::abort();
    }
    return 0;
}
