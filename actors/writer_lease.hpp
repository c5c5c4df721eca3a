// The writer lease (writer_actor::run_exclusive, implemented in writer_lease.cpp): what a caller
// holding the write connection across calls (a Hrana interactive transaction) is told.
#pragma once
#include <cstdint>

#include "proto/error.hpp"

namespace monolite::actors {

// Leases of the writer to one holder (a Hrana stream) across calls; 0 is nobody.
using lease_id = std::uint64_t;
// What `work` finds: no lease of its id, the id's open transaction, or the id's transaction rolled
// back by the timeout since its last call (reported once).
enum class lease_state { none, held, expired };
struct lease_reply {
  proto::result<void> ran;        // 503 OVERLOADED, NOT_READY or READ_ONLY: `work` did not run
  bool transaction_open = false;  // the id holds the lease after this call
};

}  // namespace monolite::actors
