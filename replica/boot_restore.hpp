// Restore at boot (`serve --restore-if-missing`): when the database file is absent, rebuild it
// from the replica before the server opens it. An empty replica means a first boot. Blocking;
// logs its progress. `cancelled` is polled between objects (see restore_request).
#pragma once
#include <chrono>
#include <functional>
#include <string>

#include "replica/format/seal.hpp"
#include "replica/restore.hpp"

namespace monolite::replica {

boost::system::result<void, restore_error> restore_if_missing(const std::string& db_path,
                                                              const std::string& replica_url, const seal::keyring& keys,
                                                              std::chrono::milliseconds retry_timeout,
                                                              std::function<bool()> cancelled = {});

}  // namespace monolite::replica
