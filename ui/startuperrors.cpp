#include "ui/startuperrors.h"

#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QInputDialog>
#include <QMessageBox>
#include <QPushButton>
#include <QUrl>

namespace apex::startup {

namespace {

const char kOpenFolderButton[] = "openFolderButton";
const char kFreePortButton[] = "freePortButton";
const char kChoosePortButton[] = "choosePortButton";

QString hostOf(const QString &listen)
{
    const int colon = int(listen.lastIndexOf(QLatin1Char(':')));
    return colon < 0 ? QStringLiteral("127.0.0.1") : listen.left(colon);
}

// The nearest folder that exists, so "open" works for a file that is missing too.
QString existingFolder(const QString &path)
{
    QDir dir = QFileInfo(path).absoluteDir();
    while (!dir.exists() && dir.cdUp()) {
    }
    return dir.absolutePath();
}

} // namespace

std::unique_ptr<QMessageBox> configErrorBox(const QString &path, const QString &message, QWidget *parent)
{
    auto box = std::make_unique<QMessageBox>(QMessageBox::Critical, QObject::tr("APEX cannot start"),
                                             QObject::tr("The configuration could not be loaded."), QMessageBox::NoButton,
                                             parent);
    box->setObjectName(QStringLiteral("configErrorBox"));
    box->setInformativeText(QObject::tr("File: %1\nProblem: %2\n\nFix the file (or pass another with --config) and start "
                                        "the console again.")
                                .arg(QDir::toNativeSeparators(path), message));
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPushButton *open = box->addButton(QObject::tr("Open the file's folder"), QMessageBox::ActionRole);
    open->setObjectName(QLatin1String(kOpenFolderButton));
    box->addButton(QMessageBox::Close);
    box->setDefaultButton(QMessageBox::Close);
    return box;
}

void showConfigError(const QString &path, const QString &message)
{
    const auto box = configErrorBox(path, message);
    box->exec();
    if (box->clickedButton() && box->clickedButton()->objectName() == QLatin1String(kOpenFolderButton))
        QDesktopServices::openUrl(QUrl::fromLocalFile(existingFolder(path)));
}

bool isListenFailure(const QString &engineError)
{
    return engineError.startsWith(QLatin1String("cannot listen on"));
}

std::unique_ptr<QMessageBox> engineErrorBox(const QString &listen, const QString &engineError, QWidget *parent)
{
    const bool listenFailure = isListenFailure(engineError);
    auto box = std::make_unique<QMessageBox>(
        QMessageBox::Critical, QObject::tr("APEX cannot start"),
        listenFailure ? QObject::tr("The engine cannot listen on %1.").arg(listen) : QObject::tr("The engine did not start."),
        QMessageBox::NoButton, parent);
    box->setObjectName(QStringLiteral("engineErrorBox"));
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    if (listenFailure) {
        box->setInformativeText(QObject::tr("%1\n\nAnother program (or another APEX) probably holds the port. Start on "
                                            "another port for now; set --listen or APEX_LISTEN to make it stick, and "
                                            "point Twilio's webhook at it.")
                                    .arg(engineError));
        box->addButton(QObject::tr("Use a free port"), QMessageBox::AcceptRole)->setObjectName(QLatin1String(kFreePortButton));
        box->addButton(QObject::tr("Choose a port…"), QMessageBox::ActionRole)->setObjectName(QLatin1String(kChoosePortButton));
    } else {
        box->setInformativeText(engineError);
    }
    box->addButton(QMessageBox::Close);
    box->setDefaultButton(QMessageBox::Close);
    return box;
}

QString askAfterEngineError(const QString &listen, const QString &engineError)
{
    const auto box = engineErrorBox(listen, engineError);
    box->exec();
    const QString clicked = box->clickedButton() ? box->clickedButton()->objectName() : QString();
    if (clicked == QLatin1String(kFreePortButton))
        return hostOf(listen) + QStringLiteral(":0");
    if (clicked == QLatin1String(kChoosePortButton)) {
        bool ok = false;
        const int port = QInputDialog::getInt(nullptr, QObject::tr("Choose a port"),
                                              QObject::tr("Port for the engine to listen on (%1):").arg(hostOf(listen)),
                                              8081, 1, 65535, 1, &ok);
        if (ok)
            return hostOf(listen) + QLatin1Char(':') + QString::number(port);
    }
    return {};
}

} // namespace apex::startup
