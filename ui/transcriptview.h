#pragma once

#include <QListView>
#include <QString>

namespace apex {

class CallMonitor;
class TranscriptModel;

// The selected call's transcript as it happens. Follows new lines to the
// bottom unless the operator has scrolled up to read something.
class TranscriptView : public QListView
{
    Q_OBJECT
public:
    explicit TranscriptView(CallMonitor *monitor, QWidget *parent = nullptr);

    void setCallId(const QString &callId);
    QString callId() const;

private:
    void rememberIfFollowing();
    void followIfWasFollowing();

    TranscriptModel *m_model;
    bool m_following = true;
};

} // namespace apex
