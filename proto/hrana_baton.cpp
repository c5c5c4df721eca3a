#include "proto/hrana_baton.hpp"

#include <algorithm>
#include <vector>

#include "proto/base64.hpp"

namespace monolite::proto::hrana {
namespace {

constexpr std::size_t raw_bytes = 16 + baton_mac_bytes;

void put_u64(unsigned char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[i] = static_cast<unsigned char>(v & 0xff);
}

std::uint64_t get_u64(const unsigned char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | in[i];
  return v;
}

}  // namespace

std::array<unsigned char, 16> baton_signed_bytes(std::uint64_t stream, std::uint64_t seq) {
  std::array<unsigned char, 16> out{};
  put_u64(out.data(), stream);
  put_u64(out.data() + 8, seq);
  return out;
}

std::string encode_baton(const baton_fields& fields) {
  std::vector<unsigned char> raw(raw_bytes);
  const auto head = baton_signed_bytes(fields.stream, fields.seq);
  std::copy(head.begin(), head.end(), raw.begin());
  std::copy(fields.mac.begin(), fields.mac.end(), raw.begin() + 16);
  return base64url_encode(raw);
}

std::optional<baton_fields> parse_baton(std::string_view text) {
  if (text.size() != (raw_bytes * 4 + 2) / 3) return std::nullopt;
  auto raw = base64url_decode(text);
  if (!raw || raw->size() != raw_bytes) return std::nullopt;
  baton_fields out;
  out.stream = get_u64(raw->data());
  out.seq = get_u64(raw->data() + 8);
  std::copy(raw->begin() + 16, raw->end(), out.mac.begin());
  return out;
}

}  // namespace monolite::proto::hrana
