#pragma once

#include <QHash>
#include <QHostAddress>
#include <QMutex>

#include <atomic>
#include <cstdint>

namespace apex {

// The ledger of open connections, total and per remote address, that decides
// whether one more may come in. Refusing at the door is what keeps live calls
// whole when the box is flooded: the calls already up keep their descriptors,
// memory and event-loop time.
//
// Thread-safe: connections are admitted on the server's thread and released
// wherever their socket dies (a call's leg may live on another thread).
class ConnectionLimiter
{
public:
    enum class Admission { Admitted, TotalFull, AddressFull };

    void setLimits(int maxTotal, int maxPerAddress);
    int maxTotal() const;

    // Counts the connection when it is admitted; release() it exactly once then.
    Admission admit(const QHostAddress &peer);
    void release(const QHostAddress &peer);

    int open() const;
    int openFrom(const QHostAddress &peer) const;

    // ::ffff:10.0.0.1 and 10.0.0.1 are one peer.
    static QHostAddress normalized(const QHostAddress &peer);

    // For /stats and /metrics.
    std::atomic<std::uint64_t> shedTotalFull{0};
    std::atomic<std::uint64_t> shedAddressFull{0};
    std::atomic<std::uint64_t> acceptFailures{0};
    std::atomic<std::uint64_t> requestsRefused{0}; // framing, size and method refusals
    std::atomic<std::uint64_t> requestTimeouts{0};
    std::atomic<std::uint64_t> webhookSignatureRefused{0};
    std::atomic<std::uint64_t> operatorRefused{0};
    std::atomic<std::uint64_t> streamsRefused{0}; // stream token missing, bad or replayed

private:
    mutable QMutex m_mutex;
    int m_maxTotal = 2048;
    int m_maxPerAddress = 256;
    int m_open = 0;
    QHash<QHostAddress, int> m_byAddress;
};

} // namespace apex
