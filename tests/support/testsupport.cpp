#include "testsupport.h"

#include <QTcpServer>

namespace apex::test {

QString binaryDir() { return qEnvironmentVariable("APEX_BIN_DIR"); }

QString sourceDir() { return qEnvironmentVariable("APEX_SOURCE_DIR", QStringLiteral(APEX_RESOURCES_DIR "/..")); }

quint16 freeLoopbackPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace apex::test
