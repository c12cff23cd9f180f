#pragma once

#include <QByteArray>
#include <QString>

namespace apex::test {

// The folder of the built executables (apex-engine, apex-call), from ctest's
// environment; empty when a suite is run by hand outside ctest.
QString binaryDir();

// The repository root, for resources/ and test data.
QString sourceDir();

// A TCP port on 127.0.0.1 that was free a moment ago.
quint16 freeLoopbackPort();

} // namespace apex::test
