#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace apex {

struct FaqEntry
{
    QString question;
    QString answer;
    QStringList keywords; // optional extra terms that point at this entry

    bool operator==(const FaqEntry &) const = default;
};

// When the caller's voice over the agent is an interruption and when it is only
// a backchannel ("ok", "haan", "mm-hmm"). The lists replace the language's
// defaults when given (pipeline/backchannellexicon.cpp holds those).
struct BargeInSettings
{
    std::optional<QStringList> backchannels; // words that do not stop the agent
    std::optional<QStringList> stopWords;    // words that always do
    int maxBackchannelWords = 3;             // more words than this are an interruption, whatever they are
    // Speech over the agent that goes on longer than this is an interruption
    // even before the recognizer has read a word of it.
    int minSpeechMs = 600;

    bool operator==(const BargeInSettings &) const = default;
};

// Asking the LLM before the endpointing silence has run out: once the caller's
// words have not changed for stableMs, the request leaves with them; the final
// transcript adopts the reply when it says the same, and cancels it otherwise.
struct PreemptiveReplySettings
{
    bool enabled = true;
    int stableMs = 120; // unchanged transcript (and no new partial) for this long

    bool operator==(const PreemptiveReplySettings &) const = default;
};

// Everything a call needs to know about the business it answers for. Immutable
// once loaded: a call keeps the snapshot it started with while the console edits.
struct Tenant
{
    QString id;
    QString name;
    QString language = QStringLiteral("en"); // BCP-47 primary tag: en, hi, ...
    QString voice = QStringLiteral("slt");   // flite: awb rms slt kal; espeak-ng: a language/voice name
    QString greeting;
    QString systemPrompt;
    QString fallbackLine = QStringLiteral("Sorry, I did not catch that. Could you say it again?");
    QList<FaqEntry> faq;
    QStringList numbers; // E.164 numbers this tenant answers (calls, and WhatsApp by receiving number)
    // The WAHA session whose messages this tenant answers (WAHA Core runs only
    // "default"). Empty: the tenant is found by its numbers instead.
    QString whatsappSession;
    // The answer to a voice note, image or anything else that is not text.
    QString whatsappMediaReply = QStringLiteral("Sorry, I can only read text messages here. Please type your question.");
    int endpointingMs = 250;
    int maxTurnsInContext = 8;
    BargeInSettings bargeIn;
    PreemptiveReplySettings preemptiveReply;

    // Provider pins: empty or "auto" takes the cloud provider when its key is
    // configured and the embedded one otherwise; a provider name forces it.
    QString sttProvider;   // auto | deepgram | pocketsphinx
    QString llmProvider;   // auto | groq (any OpenAI-compatible server) | faq
    QString ttsProvider;   // auto | azure | embedded
    QString llmModel;      // overrides LLM_MODEL for this tenant
    int llmFirstTokenDeadlineMs = 0; // > 0: give up on the LLM (and answer from the fallback) after this
    int ttsCacheTtlSeconds = 86400;
    // No silent turn: when no reply audio is on its way this long after the
    // caller stopped, the hold line covers the wait while the fallbacks answer.
    int silenceBudgetMs = 1500;
    QString holdLine = QStringLiteral("One moment please.");
    int llmConcurrencyQuota = 0; // concurrent LLM requests for this tenant; 0: no quota
    // Said to calls still live when the engine must stop (drain time spent).
    QString goodbyeLine = QStringLiteral("I am sorry, we have to end the call now. Please call us again. Goodbye.");
    // Calls and chats older than this are deleted from the history (daily and at start).
    int historyRetentionDays = 90;

    // A reload re-prepares and re-warms only the tenants that changed.
    bool operator==(const Tenant &) const = default;
};

} // namespace apex
