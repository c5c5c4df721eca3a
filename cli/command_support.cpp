#include "cli/command_support.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/values.hpp"
#include "replica/sealed_store.hpp"

namespace monolite::cli {

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

int usage_failure(const std::string& message) {
  std::cerr << "monolite: " << message << "\nRun 'monolite --help' for usage.\n";
  return 2;
}

namespace {
constexpr const char* key_file_flag = "replica-encryption-key-file";
constexpr const char* key_variable = "MONOLITE_REPLICA_ENCRYPTION_KEY";

usage_result<replica::seal::key> key_from(const std::string& where, const std::string& text) {
  auto parsed = replica::seal::key::from_hex(text);
  if (!parsed) return usage_error{where + ": " + parsed.error().message};
  return *parsed;
}

usage_result<replica::seal::key> key_from_file(const std::string& path) {
  const std::string where = std::string("--") + key_file_flag + " " + path;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) return usage_error{where + ": cannot read it: " + std::strerror(errno)};
  return key_from(where, text.str());
}
}  // namespace

option_spec replica_key_file_spec() {
  return {key_file_flag,
          "PATH",
          "file holding a replica key (64 hex characters: openssl rand -hex 32); the first key given seals, every "
          "key opens (repeatable; or the key itself in MONOLITE_REPLICA_ENCRYPTION_KEY)",
          "",
          false,
          true};
}

usage_result<replica::seal::keyring> load_replica_keys(const option_values& values) {
  replica::seal::keyring keys;
  if (const char* text = std::getenv(key_variable); text && *text) {
    auto k = key_from(key_variable, text);
    if (!k) return k.error();
    keys.add(*k);
  }
  for (const auto& path : split_list(values.at(key_file_flag))) {
    auto k = key_from_file(path);
    if (!k) return k.error();
    keys.add(*k);
  }
  return keys;
}

std::unique_ptr<replica::object_store> open_or_report(const std::string& url, const replica::seal::keyring& keys) {
  auto store = replica::open_sealed_store(url, keys);
  if (store) return std::move(*store);
  std::cerr << "monolite: --replica " << url << ": " << store.error().message << "\n";
  return nullptr;
}

std::string size_text(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1048576.0);
  return buf;
}

}  // namespace monolite::cli
