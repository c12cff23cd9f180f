#pragma once

#include <QString>
#include <QStringList>

#include <optional>

namespace apex {

// Deepgram's end-of-turn rules (protocols.md §3) without the socket, so they can
// be reasoned about and tested alone. Times are seconds on one clock for the
// whole call (the recognizer adds each connection's offset after a reconnect).
class DeepgramTurnAssembler
{
public:
    // What the recognizer should emit, in this order.
    struct Update
    {
        bool speechStarted = false;
        std::optional<QString> partial;
        std::optional<QString> finalText; // set: endOfSpeech, then finalTranscript(*finalText)
    };

    struct Result
    {
        QString transcript;
        bool isFinal = false;
        bool speechFinal = false;
        double lastWordEndSec = -1.0; // -1: no words
    };

    Update onResults(const Result &result);
    Update onSpeechStarted();
    Update onUtteranceEnd(double lastWordEndSec);

    bool inSpeech() const { return m_inSpeech; }
    bool hasPendingText() const { return !m_finals.isEmpty(); }

private:
    Update endTurn();
    QString joined(const QString &tail = {}) const;

    QStringList m_finals;           // is_final spans of the current utterance
    double m_pendingWordEndSec = -1.0; // end of the newest word in m_finals
    bool m_inSpeech = false;        // speechStarted emitted, turn not ended yet
    QString m_lastPartial;
};

} // namespace apex
