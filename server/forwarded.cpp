#include "server/forwarded.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace monolite::server {
namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// An IPv4 client reaching an IPv6 socket shows up as ::ffff:a.b.c.d; compare it as IPv4.
ip::address plain(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return plain(a);
}

template <std::size_t N>
bool same_prefix(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b, unsigned bits) {
  for (std::size_t i = 0; i < N && bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

constexpr std::string_view private_ranges[] = {"127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12",
                                               "192.168.0.0/16", "::1/128",    "fc00::/7"};

}  // namespace

boost::system::result<address_ranges, bad_address_range> address_ranges::parse(std::string_view list) {
  address_ranges out;
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto end = std::min(list.find_first_of(", \t\n", start), list.size());
    if (auto word = trim(list.substr(start, end - start)); !word.empty()) words.push_back(word);
    start = end + 1;
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "private_ranges") {
      words.insert(words.end(), std::begin(private_ranges), std::end(private_ranges));
      continue;
    }
    const auto slash = words[i].find('/');
    auto base = parse_address(words[i].substr(0, slash));
    const unsigned width = base && base->is_v4() ? 32 : 128;
    unsigned prefix = width;
    if (base && slash != std::string_view::npos) {
      const auto digits = words[i].substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (ec != std::errc() || end != digits.data() + digits.size() || prefix > width) base.reset();
    }
    if (!base) return bad_address_range{std::string(words[i])};
    out.ranges_.push_back({*base, prefix});
  }
  return out;
}

bool address_ranges::contains(ip::address address) const {
  address = plain(address);
  return std::any_of(ranges_.begin(), ranges_.end(), [&](const range& r) {
    if (r.base.is_v4() != address.is_v4()) return false;
    if (address.is_v4()) return same_prefix(r.base.to_v4().to_bytes(), address.to_v4().to_bytes(), r.prefix);
    return same_prefix(r.base.to_v6().to_bytes(), address.to_v6().to_bytes(), r.prefix);
  });
}

void throw_exception_from_error(const bad_address_range& error, const boost::source_location&) {
  throw std::invalid_argument("'" + error.entry + "' is not an IP address or CIDR range");
}

ip::address client_address(const ip::address& peer, std::string_view forwarded_for, const address_ranges& trusted) {
  ip::address client = plain(peer);
  while (trusted.contains(client) && !forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const auto entry = trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view() : forwarded_for.substr(0, comma);
    auto next = parse_address(entry);
    if (!next) break;
    client = *next;
  }
  return client;
}

}  // namespace monolite::server
