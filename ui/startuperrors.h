#pragma once

#include <QString>

#include <memory>

class QMessageBox;
class QWidget;

namespace apex {

// Start-up failures told where a desktop user looks: a dialog that says what
// is wrong and where, with a way out. The console still prints them on stderr
// too; with no one to see a dialog (offscreen platform, --no-dialogs) only that.
namespace startup {

// The configuration could not be read. The box names the file and offers to
// open its folder. Built apart from showing it, so tests can read it.
std::unique_ptr<QMessageBox> configErrorBox(const QString &path, const QString &message, QWidget *parent = nullptr);
void showConfigError(const QString &path, const QString &message);

// The engine did not start. A port that is taken offers another one.
bool isListenFailure(const QString &engineError);
std::unique_ptr<QMessageBox> engineErrorBox(const QString &listen, const QString &engineError, QWidget *parent = nullptr);
// Returns the listen address to try next, or an empty string to give up.
QString askAfterEngineError(const QString &listen, const QString &engineError);

} // namespace startup
} // namespace apex
