// What every subcommand shares: --help detection, the exit-2 usage message, the replica keys and
// opening a replica named on the command line, and sizes for people.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "replica/format/seal.hpp"
#include "replica/object_store.hpp"

namespace monolite::cli {

bool wants_help(const std::vector<std::string>& args);

// "monolite: <message>" on stderr; returns 2, the exit code for bad usage.
int usage_failure(const std::string& message);

// --replica-encryption-key-file PATH (repeatable), for every command that reads or writes a replica.
option_spec replica_key_file_spec();

// The key in MONOLITE_REPLICA_ENCRYPTION_KEY first, then those of the key files in the order given;
// the first seals new objects, all open them. A key is 64 hex characters (32 random bytes). The
// key itself is never a flag value, so that it never shows in `ps`.
usage_result<replica::seal::keyring> load_replica_keys(const option_values& values);

// The store behind a --replica URL, sealed with `keys` (none: stored as it is), or null after
// saying on stderr why it cannot be opened.
std::unique_ptr<replica::object_store> open_or_report(const std::string& url, const replica::seal::keyring& keys);

// "12.3 MB"
std::string size_text(std::uint64_t bytes);

}  // namespace monolite::cli
