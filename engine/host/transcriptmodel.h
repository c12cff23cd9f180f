#pragma once

#include <QAbstractListModel>
#include <QString>

namespace apex {

class CallMonitor;

// The transcript of the call selected in the console. Caller partials are rows
// like any other, marked by IsFinalRole = false so the view can grey them.
class TranscriptModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role { SpeakerRole = Qt::UserRole + 1, TextRole, IsFinalRole, TurnRole, HeardTextRole, UnheardTextRole };

    explicit TranscriptModel(CallMonitor *monitor, QObject *parent = nullptr);

    void setCallId(const QString &callId);
    QString callId() const { return m_callId; }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    CallMonitor *m_monitor;
    QString m_callId;
    int m_rows = 0; // rows announced to views, kept in step with the monitor
};

} // namespace apex
