// The text form of a Hrana baton: stream id, sequence number and a MAC over both, as unpadded
// base64url. Pure: the MAC is computed by the caller (server/hrana_batons.cpp, HMAC-SHA256 with a
// key drawn at start-up), so a baton can neither be guessed nor forged nor reused.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace monolite::proto::hrana {

constexpr std::size_t baton_mac_bytes = 16;
using baton_mac = std::array<unsigned char, baton_mac_bytes>;

struct baton_fields {
  std::uint64_t stream = 0;
  std::uint64_t seq = 0;
  baton_mac mac{};
};

// The bytes the MAC covers: stream id and sequence number, big-endian.
std::array<unsigned char, 16> baton_signed_bytes(std::uint64_t stream, std::uint64_t seq);

std::string encode_baton(const baton_fields& fields);
// Empty when the text is not a baton of this shape (it says nothing yet about the MAC).
std::optional<baton_fields> parse_baton(std::string_view text);

}  // namespace monolite::proto::hrana
