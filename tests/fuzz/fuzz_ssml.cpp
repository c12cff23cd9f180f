// Text from callers and the LLM, put into SSML for Azure: whatever it holds,
// the document is well-formed XML with one <speak> holding one <voice>, and the
// text comes back as the voice's content (sanitised), never as markup.
#include "tts/azure/ssml.h"

#include <QXmlStreamReader>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace apex;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString input = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    // The first line is the voice (a config value), the rest the sentence.
    const qsizetype cut = input.indexOf(QLatin1Char('\n'));
    const QString voice = cut < 0 ? QStringLiteral("en-US-JennyNeural") : input.left(cut);
    const QString text = cut < 0 ? input : input.mid(cut + 1);
    const QByteArray document = ssml::document(voice, QStringLiteral("en-US"), text);

    QXmlStreamReader reader(document);
    int elements = 0;
    QString content;
    while (!reader.atEnd()) {
        const auto token = reader.readNext();
        if (token == QXmlStreamReader::StartElement)
            ++elements;
        else if (token == QXmlStreamReader::Characters)
            content += reader.text();
        else if (token == QXmlStreamReader::DTD || token == QXmlStreamReader::EntityReference
                 || token == QXmlStreamReader::ProcessingInstruction)
            std::abort();
    }
    if (reader.hasError() || elements != 2 || content != ssml::sanitizedText(text))
        std::abort();
    return 0;
}
