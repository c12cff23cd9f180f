#pragma once

#include "observability/turntrace.h"
#include "pipeline/transcriptline.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

namespace apex {

// Everything the engine reported about one call, as kept on the observer's side.
struct CallRecord
{
    QString callId;
    QString tenantId;
    CallState state = CallState::Connecting;
    QDateTime startedAt;
    QList<TranscriptLine> lines; // a caller partial is replaced in place by the next one
    QList<TurnTrace> turns;
};

// The observer side of the engine boundary: lives on the console's (or the demo
// runner's) thread and is fed only by queued signals from the engine, so nothing
// here ever touches an engine object. Models read from it.
class CallMonitor : public QObject
{
    Q_OBJECT
public:
    explicit CallMonitor(QObject *parent = nullptr);

    int count() const { return int(m_calls.size()); }
    const CallRecord &at(int row) const { return m_calls.at(row); }
    int rowOf(const QString &callId) const { return m_rows.value(callId, -1); }
    const CallRecord *find(const QString &callId) const;
    // Ended calls beyond this many are forgotten, oldest first.
    void setHistoryLimit(int calls) { m_historyLimit = calls; }

public Q_SLOTS:
    void onCallStarted(const QString &callId, const QString &tenantId);
    void onStateChanged(const QString &callId, apex::CallState state);
    void onTranscript(const QString &callId, const apex::TranscriptLine &line);
    void onTurnCompleted(const QString &callId, const apex::TurnTrace &trace);

Q_SIGNALS:
    void callAdded(int row);
    void callChanged(int row);
    void aboutToRemoveCall(int row);
    void callRemoved(int row);
    void transcriptChanged(const QString &callId, int lineRow, bool appended);
    void turnAdded(const QString &callId, int turnRow);

private:
    CallRecord *record(const QString &callId);
    void trim();

    QList<CallRecord> m_calls;
    QHash<QString, int> m_rows;
    int m_historyLimit = 200;
};

} // namespace apex
