#include "pipeline/bargeinpolicy.h"

#include "tenancy/tenant.h"

namespace apex {

const char *bargeInReasonName(BargeInReason reason)
{
    switch (reason) {
    case BargeInReason::StopWord: return "stop_word";
    case BargeInReason::NotABackchannel: return "not_a_backchannel";
    case BargeInReason::TooManyWords: return "too_many_words";
    case BargeInReason::SpeechTooLong: return "speech_too_long";
    case BargeInReason::BeforeReply: return "before_reply";
    case BargeInReason::Backchannel: return "backchannel";
    case BargeInReason::NothingRecognised: return "nothing_recognised";
    }
    return "unknown";
}

QString BargeInDecision::describe() const
{
    const QString head = verdict == BargeInVerdict::Stop ? QStringLiteral("barge-in") : QStringLiteral("ignored");
    switch (reason) {
    case BargeInReason::StopWord: return QStringLiteral("%1: stop word '%2'").arg(head, words);
    case BargeInReason::NotABackchannel: return QStringLiteral("%1: not a backchannel '%2'").arg(head, words);
    case BargeInReason::TooManyWords: return QStringLiteral("%1: too many words for a backchannel '%2'").arg(head, words);
    case BargeInReason::SpeechTooLong: return QStringLiteral("%1: speech went on for %2 ms").arg(head).arg(speechMs);
    case BargeInReason::BeforeReply: return QStringLiteral("%1: the caller went on before the reply was heard").arg(head);
    case BargeInReason::Backchannel: return QStringLiteral("%1: backchannel '%2'").arg(head, words);
    case BargeInReason::NothingRecognised: return QStringLiteral("%1: nothing recognised").arg(head);
    }
    return head;
}

BargeInPolicy::BargeInPolicy()
    : BargeInPolicy(BargeInSettings{}, QStringLiteral("en"))
{
}

BargeInPolicy::BargeInPolicy(const BargeInSettings &settings, const QString &language)
    : m_lexicon(settings.backchannels.value_or(BackchannelLexicon::defaultBackchannels(language)),
                settings.stopWords.value_or(BackchannelLexicon::defaultStopWords(language)))
    , m_maxBackchannelWords(settings.maxBackchannelWords)
    , m_minSpeechMs(settings.minSpeechMs)
{
}

BargeInDecision BargeInPolicy::judgeWords(const QString &text, BargeInVerdict whenBackchannel) const
{
    const BackchannelLexicon::Result read = m_lexicon.read(text);
    BargeInDecision d;
    d.words = read.phrase;
    switch (read.reading) {
    case BackchannelLexicon::Reading::Nothing:
        d.verdict = whenBackchannel;
        d.reason = BargeInReason::NothingRecognised;
        return d;
    case BackchannelLexicon::Reading::StopWord:
        d.verdict = BargeInVerdict::Stop;
        d.reason = BargeInReason::StopWord;
        return d;
    case BackchannelLexicon::Reading::Other:
    case BackchannelLexicon::Reading::Backchannel:
        break;
    }
    if (read.words > m_maxBackchannelWords) {
        d.verdict = BargeInVerdict::Stop;
        d.reason = BargeInReason::TooManyWords;
    } else if (read.reading == BackchannelLexicon::Reading::Other) {
        d.verdict = BargeInVerdict::Stop;
        d.reason = BargeInReason::NotABackchannel;
    } else {
        d.verdict = whenBackchannel;
        d.reason = BargeInReason::Backchannel;
    }
    return d;
}

BargeInDecision BargeInPolicy::onPartial(const QString &text) const
{
    return judgeWords(text, BargeInVerdict::Undecided);
}

BargeInDecision BargeInPolicy::onFinal(const QString &text) const
{
    return judgeWords(text, BargeInVerdict::Ignore);
}

BargeInDecision BargeInPolicy::onSpeechLasted(qint64 speechMs) const
{
    BargeInDecision d;
    if (speechMs > m_minSpeechMs) {
        d.verdict = BargeInVerdict::Stop;
        d.reason = BargeInReason::SpeechTooLong;
        d.speechMs = speechMs;
    }
    return d;
}

BargeInCounts &BargeInCounts::operator+=(const BargeInCounts &other)
{
    for (size_t i = 0; i < decisions.size(); ++i)
        decisions[i] += other.decisions[i];
    resumed += other.resumed;
    return *this;
}

} // namespace apex
