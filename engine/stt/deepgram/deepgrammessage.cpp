#include "stt/deepgram/deepgrammessage.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace apex {

DeepgramMessage DeepgramMessage::parse(const QString &text)
{
    DeepgramMessage message;
    const QJsonObject object = QJsonDocument::fromJson(text.toUtf8()).object();
    const QString type = object.value(QLatin1String("type")).toString();
    if (type == QLatin1String("Results")) {
        message.type = Type::Results;
        const QJsonObject alternative =
            object.value(QLatin1String("channel")).toObject().value(QLatin1String("alternatives")).toArray().first().toObject();
        message.transcript = alternative.value(QLatin1String("transcript")).toString();
        message.isFinal = object.value(QLatin1String("is_final")).toBool();
        message.speechFinal = object.value(QLatin1String("speech_final")).toBool();
        const QJsonArray words = alternative.value(QLatin1String("words")).toArray();
        message.lastWordEnd = words.isEmpty() ? -1.0 : words.last().toObject().value(QLatin1String("end")).toDouble(-1.0);
        message.start = object.value(QLatin1String("start")).toDouble();
        message.duration = object.value(QLatin1String("duration")).toDouble();
    } else if (type == QLatin1String("SpeechStarted")) {
        message.type = Type::SpeechStarted;
    } else if (type == QLatin1String("UtteranceEnd")) {
        message.type = Type::UtteranceEnd;
        message.utteranceLastWordEnd = object.value(QLatin1String("last_word_end")).toDouble(-1.0);
    } else if (type == QLatin1String("Metadata")) {
        message.type = Type::Metadata;
        message.requestId = object.value(QLatin1String("request_id")).toString();
    } else if (type == QLatin1String("Error")) {
        message.type = Type::Error;
    }
    return message;
}

} // namespace apex
