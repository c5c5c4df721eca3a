// Bearer-token authentication: opaque tokens stored only as their SHA-256, and JWTs (jwt.hpp).
// Loaded from the --auth file (YAML or JSON); immutable once loaded, swapped whole on SIGHUP.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.hpp"
#include "server/jwt.hpp"
#include "server/role.hpp"

namespace monolite::server {

struct token_entry {
  std::string name;
  std::array<unsigned char, 32> sha256{};
  role granted = role::read;
};

struct auth_config {
  std::vector<token_entry> tokens;
  jwt_keys jwt;
};

// The error message names --auth and the entry at fault; it never quotes a secret.
proto::result<std::shared_ptr<const auth_config>> load_auth_file(const std::string& path);

// From an Authorization header value: the caller's role, or 401 UNAUTHORIZED.
proto::result<role> authenticate(const auth_config& config, std::string_view authorization);

}  // namespace monolite::server
