// Verifies JSON Web Tokens signed with Ed25519 (alg EdDSA) or HMAC-SHA256 (alg HS256), honours
// exp/nbf, and reads the role from a `role` claim or sqld's `a` claim (ro/rw). Pure: no I/O.
#pragma once
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proto/error.hpp"
#include "server/role.hpp"

namespace monolite::server {

struct jwt_keys {
  std::shared_ptr<EVP_PKEY> ed25519;  // may be null
  std::string hs256_secret;           // may be empty
};

// 401 UNAUTHORIZED for anything but a valid, current token signed by one of the keys.
proto::result<role> verify_jwt(std::string_view token, const jwt_keys& keys, std::int64_t now_unix);

}  // namespace monolite::server
