// Who the client is behind a reverse proxy: the peers allowed to say so (--trusted-proxies) and
// the walk through X-Forwarded-For. Plain functions; no I/O.
#pragma once
#include <boost/asio/ip/address.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace monolite::server {

// An entry of an address list that is neither an address nor a range, as written.
struct bad_address_range {
  std::string entry;
};

// A set of address ranges: "10.0.0.0/8", "::1" (a single address), or "private_ranges"
// (loopback, 10/8, 172.16/12, 192.168/16, fc00::/7), separated by commas or blanks.
class address_ranges {
 public:
  // The first entry that is neither an address nor a range is the error.
  static boost::system::result<address_ranges, bad_address_range> parse(std::string_view list);
  bool contains(boost::asio::ip::address address) const;

 private:
  struct range {
    boost::asio::ip::address base;
    unsigned prefix;
  };
  std::vector<range> ranges_;
};

// `peer` unless it is a trusted proxy. Then X-Forwarded-For is read from the right (each proxy
// appends the address it saw): the first address that is not a trusted proxy is the client. An
// entry that is not an address ends the walk at the last address believed.
// What result<address_ranges>::value() throws on an error: std::invalid_argument naming the entry.
[[noreturn]] void throw_exception_from_error(const bad_address_range& error, const boost::source_location& location);

boost::asio::ip::address client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                                        const address_ranges& trusted);

}  // namespace monolite::server
