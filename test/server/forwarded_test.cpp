// --trusted-proxies lists: what parses, and the entry that does not.
#include "server/forwarded.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite::server;
namespace ip = boost::asio::ip;

BOOST_AUTO_TEST_SUITE(server_forwarded)

BOOST_AUTO_TEST_CASE(ranges_parse_addresses_cidrs_and_private_ranges) {
  const auto ranges = address_ranges::parse("10.0.0.0/8, ::1\t192.168.1.7,fc00::/7").value();
  BOOST_TEST(ranges.contains(ip::make_address("10.200.0.1")));
  BOOST_TEST(ranges.contains(ip::make_address("::1")));
  BOOST_TEST(ranges.contains(ip::make_address("::ffff:192.168.1.7")));
  BOOST_TEST(!ranges.contains(ip::make_address("192.168.1.8")));
  BOOST_TEST(ranges.contains(ip::make_address("fd00::5")));
  const auto named = address_ranges::parse("private_ranges").value();
  BOOST_TEST(named.contains(ip::make_address("172.20.0.1")));
  BOOST_TEST(!named.contains(ip::make_address("8.8.8.8")));
  BOOST_TEST(!address_ranges::parse("").value().contains(ip::make_address("127.0.0.1")));
}

BOOST_AUTO_TEST_CASE(the_error_carries_the_first_bad_entry_as_written) {
  for (const auto& [list, entry] :
       std::initializer_list<std::pair<std::string, std::string>>{{"10.0.0.0/8, proxy.local, 1.2.3.4", "proxy.local"},
                                                                  {"10.0.0.0/33", "10.0.0.0/33"},
                                                                  {"::1/129", "::1/129"},
                                                                  {"1.2.3.4/", "1.2.3.4/"},
                                                                  {"1.2.3.4/8x", "1.2.3.4/8x"},
                                                                  {"private_ranges 300.1.1.1", "300.1.1.1"}}) {
    auto parsed = address_ranges::parse(list);
    BOOST_REQUIRE_MESSAGE(parsed.has_error(), list);
    BOOST_TEST(parsed.error().entry == entry);
  }
  BOOST_CHECK_THROW(address_ranges::parse("nowhere").value(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(client_address_walks_forwarded_for_from_the_right) {
  const auto trusted = address_ranges::parse("127.0.0.0/8,10.0.0.0/8").value();
  const auto peer = ip::make_address("127.0.0.1");
  BOOST_TEST(client_address(peer, "203.0.113.9, 10.1.1.1", trusted) == ip::make_address("203.0.113.9"));
  BOOST_TEST(client_address(ip::make_address("198.51.100.1"), "203.0.113.9", trusted) ==
             ip::make_address("198.51.100.1"));
  BOOST_TEST(client_address(peer, "junk, 10.1.1.1", trusted) == ip::make_address("10.1.1.1"));
}

BOOST_AUTO_TEST_SUITE_END()
