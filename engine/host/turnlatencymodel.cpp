#include "host/turnlatencymodel.h"

#include "host/callmonitor.h"

namespace apex {

namespace {

// Sub-stages a column's duration includes, named in its tooltip.
struct Included
{
    TurnStage from;
    TurnStage to;
    const char *what;
};

constexpr Included kIncluded[] = {
    {TurnStage::SttFinal, TurnStage::ResponderStart, QT_TRANSLATE_NOOP("apex::TurnLatencyModel", "handing the turn to the responder")},
    {TurnStage::ResponderStart, TurnStage::LlmRequestSent, QT_TRANSLATE_NOOP("apex::TurnLatencyModel", "queue and connection before the LLM request left")},
    {TurnStage::LlmRequestSent, TurnStage::FirstToken, QT_TRANSLATE_NOOP("apex::TurnLatencyModel", "the LLM's time to first token")},
    {TurnStage::FirstSentence, TurnStage::TtsStart, QT_TRANSLATE_NOOP("apex::TurnLatencyModel", "handing the sentence to TTS")},
    {TurnStage::TtsStart, TurnStage::TtsRequestSent, QT_TRANSLATE_NOOP("apex::TurnLatencyModel", "queue and connection before the TTS request left")},
    {TurnStage::TtsRequestSent, TurnStage::TtsFirstAudio, QT_TRANSLATE_NOOP("apex::TurnLatencyModel", "the TTS provider's time to first audio")},
};

} // namespace

TurnLatencyModel::TurnLatencyModel(CallMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
    , m_monitor(monitor)
{
    connect(monitor, &CallMonitor::turnAdded, this, [this](const QString &callId, int row) {
        if (callId != m_callId || row != m_rows)
            return;
        beginInsertRows({}, row, row);
        ++m_rows;
        endInsertRows();
    });
    connect(monitor, &CallMonitor::aboutToRemoveCall, this, [this](int row) {
        if (m_monitor->at(row).callId == m_callId)
            setCallId({});
    });
}

void TurnLatencyModel::setCallId(const QString &callId)
{
    beginResetModel();
    m_callId = callId;
    const CallRecord *call = m_monitor->find(callId);
    m_rows = call ? int(call->turns.size()) : 0;
    endResetModel();
}

TurnStage TurnLatencyModel::stageOf(int column)
{
    switch (column) {
    case EndpointingColumn: return TurnStage::Endpointed;
    case SttFinalColumn: return TurnStage::SttFinal;
    case FirstTokenColumn: return TurnStage::FirstToken;
    case FirstSentenceColumn: return TurnStage::FirstSentence;
    case TtsFirstAudioColumn: return TurnStage::TtsFirstAudio;
    case FirstFrameOutColumn:
    case TotalColumn:
    default: return TurnStage::FirstFrameOut;
    }
}

namespace {
// The moment a stage column starts from: the latest earlier column's stage
// that happened, else the caller's end of speech.
TurnStage startOf(const TurnTrace &trace, int column)
{
    for (int c = column - 1; c >= TurnLatencyModel::EndpointingColumn; --c) {
        if (trace.has(TurnLatencyModel::stageOf(c)))
            return TurnLatencyModel::stageOf(c);
    }
    return TurnStage::EndOfSpeech;
}
} // namespace

double TurnLatencyModel::durationMs(const TurnTrace &trace, int column)
{
    if (column == TotalColumn)
        return trace.msBetween(TurnStage::EndOfSpeech, TurnStage::FirstFrameOut);
    if (column < EndpointingColumn || column > FirstFrameOutColumn || !trace.has(stageOf(column)))
        return -1;
    return trace.msBetween(startOf(trace, column), stageOf(column));
}

int TurnLatencyModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

int TurnLatencyModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TurnLatencyModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const CallRecord *call = m_monitor->find(m_callId);
    if (!call || index.row() >= call->turns.size())
        return {};
    const TurnTrace &trace = call->turns.at(index.row());
    if (index.column() == UtteranceColumn) {
        if (role == Qt::ToolTipRole && !trace.bargeInDecisions.isEmpty())
            return trace.utterance + QLatin1Char('\n') + trace.bargeInDecisions.join(QLatin1Char('\n'));
        return role == Qt::DisplayRole || role == Qt::ToolTipRole ? QVariant(trace.utterance) : QVariant();
    }
    const double ms = durationMs(trace, index.column());
    const double cumulative = trace.msBetween(TurnStage::EndOfSpeech, stageOf(index.column()));
    switch (role) {
    case DurationMsRole: return ms;
    case CumulativeMsRole: return cumulative;
    case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::DisplayRole: return ms < 0 ? QVariant() : QVariant(QString::number(ms, 'f', 1));
    case Qt::ToolTipRole: {
        if (cumulative < 0)
            return tr("Did not happen in this turn");
        QString tip = tr("%1 ms after the caller's last word").arg(cumulative, 0, 'f', 1);
        if (index.column() != TotalColumn && ms >= 0) {
            const TurnStage begin = startOf(trace, index.column());
            const TurnStage end = stageOf(index.column());
            for (const Included &part : kIncluded) {
                if (int(part.from) < int(begin) || int(part.to) > int(end))
                    continue;
                const double partMs = trace.msBetween(part.from, part.to);
                if (partMs >= 0)
                    tip += QLatin1Char('\n') + tr("of which %1: %2 ms").arg(tr(part.what)).arg(partMs, 0, 'f', 1);
            }
        }
        return tip;
    }
    default: return {};
    }
}

QVariant TurnLatencyModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Vertical)
        return role == Qt::DisplayRole ? QVariant(section + 1) : QVariant();
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case EndpointingColumn: return tr("The caller's last word until the endpointer decided the turn was over, ms");
        case SttFinalColumn: return tr("Then until the final transcript, ms");
        case FirstTokenColumn: return tr("Then until the responder's first token (queue waits included), ms");
        case FirstSentenceColumn: return tr("Then until the first whole sentence, ms");
        case TtsFirstAudioColumn: return tr("Then until its first audio (cache hit or synthesis), ms");
        case FirstFrameOutColumn: return tr("Then until the first 20 ms frame left for the caller, ms");
        case TotalColumn: return tr("The caller's last word to the first frame of the reply, ms");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    return columnTitle(section);
}

QString TurnLatencyModel::columnTitle(int column)
{
    switch (column) {
    case UtteranceColumn: return tr("Caller said");
    case EndpointingColumn: return tr("Endpointing");
    case SttFinalColumn: return tr("STT final");
    case FirstTokenColumn: return tr("First token");
    case FirstSentenceColumn: return tr("First sentence");
    case TtsFirstAudioColumn: return tr("TTS first audio");
    case FirstFrameOutColumn: return tr("First frame out");
    case TotalColumn: return tr("Total");
    default: return {};
    }
}

} // namespace apex
