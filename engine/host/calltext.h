#pragma once

#include <QString>

namespace apex {

struct CallRecord;

// A call as plain text: its transcript, then each turn's stage latencies. What
// `apex-engine --demo` prints and the console's demo summary shows.
QString callAsText(const CallRecord &call);

} // namespace apex
