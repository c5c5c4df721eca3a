#include "replica/boot_restore.hpp"

#include <filesystem>

#include "common/log.hpp"
#include "replica/sealed_store.hpp"

namespace monolite::replica {

boost::system::result<void, restore_error> restore_if_missing(const std::string& db_path,
                                                              const std::string& replica_url, const seal::keyring& keys,
                                                              std::chrono::milliseconds retry_timeout,
                                                              std::function<bool()> cancelled) {
  std::error_code ec;
  if (std::filesystem::exists(db_path, ec)) return {};
  auto store = open_sealed_store(replica_url, keys);
  if (!store) return restore_error{"--replica: " + store.error().message};
  log::info("database missing; restoring from the replica", {{"db", db_path}, {"replica", (*store)->describe()}});
  restore_request req;
  req.output = db_path;
  req.if_replica_exists = true;
  req.retry.give_up_after = retry_timeout;
  req.progress = [](const std::string& line) { log::info(line); };
  req.cancelled = std::move(cancelled);
  auto done = restore(**store, req);
  if (!done) return restore_error{"restore from " + (*store)->describe() + " failed: " + done.error().message};
  if (done->outcome == restore_outcome::replica_empty) {
    log::info("the replica is empty; starting a new database", {{"replica", (*store)->describe()}});
  } else {
    log::info("restored", {{"generation", done->generation},
                           {"index", done->at.index},
                           {"frame", done->at.frame},
                           {"bytes", done->db_bytes},
                           {"segments", done->segments}});
  }
  return {};
}

}  // namespace monolite::replica
