// What a caller may do. Each level includes the ones below it.
#pragma once
#include <optional>
#include <string_view>

namespace monolite::server {

enum class role { none = 0, read = 1, write = 2, admin = 3 };

inline std::optional<role> parse_role(std::string_view name) {
  if (name == "read") return role::read;
  if (name == "write") return role::write;
  if (name == "admin") return role::admin;
  return std::nullopt;
}

inline std::string_view role_name(role r) {
  switch (r) {
    case role::read: return "read";
    case role::write: return "write";
    case role::admin: return "admin";
    default: return "none";
  }
}

}  // namespace monolite::server
