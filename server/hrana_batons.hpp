// Signs and checks Hrana batons: HMAC-SHA256 (truncated to 128 bits) over stream id and sequence
// number, with a key drawn from the OS at start-up. A restart therefore invalidates every baton.
// Immutable after construction: thread-safe.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "actors/hrana_service.hpp"

namespace monolite::server {

class baton_signer {
 public:
  baton_signer();
  std::string sign(const actors::hrana::stream_ref& ref) const;
  // Empty for anything this process did not sign (malformed, forged, from another run).
  std::optional<actors::hrana::stream_ref> verify(std::string_view baton) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace monolite::server
