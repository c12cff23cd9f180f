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
    QString tenantName; // the tenant's display name when the monitor was told it, else empty
    QString callerNumber; // the caller's number as the leg reported it; empty until known
    QString calledNumber;
    CallState state = CallState::Connecting;
    QDateTime startedAt;
    QDateTime endedAt; // invalid while live

    bool isLive() const { return state != CallState::Ended; }
    qint64 durationMs(const QDateTime &now) const;
    // End of the caller's speech to the reply's first frame, per turn; -1 when unknown.
    double lastReplyMs() const;
    double worstReplyMs() const;
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
    // Tenant id -> display name, applied to calls already known and to new ones.
    void setTenantNames(const QHash<QString, QString> &names);

public Q_SLOTS:
    void onCallStarted(const QString &callId, const QString &tenantId);
    void onCallParties(const QString &callId, const QString &from, const QString &to);
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
    QHash<QString, QString> m_tenantNames;
    int m_historyLimit = 200;
};

} // namespace apex
