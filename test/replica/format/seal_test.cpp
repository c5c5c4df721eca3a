#include "replica/format/seal.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <random>

using namespace monolite::replica::seal;
namespace data = boost::unit_test::data;

namespace {

const std::string hex_a(64, 'a');
const std::string hex_b = "0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef";
const std::string name = "generations/0001/wal/00000001-00000001.wal.lz4";

key key_of(const std::string& hex) { return key::from_hex(hex).value(); }

keyring ring_of(std::initializer_list<std::string> hexes) {
  keyring ring;
  for (const auto& h : hexes)
    ring.add(key_of(h));
  return ring;
}

std::string random_bytes(std::size_t n, unsigned seed = 7) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(gen());
  return out;
}

// Seals `plain` handing it over in pieces of `piece` bytes.
std::string seal_in_pieces(const key& k, const std::string& plain, std::size_t piece) {
  sealer s(k, name);
  std::string out;
  for (std::size_t i = 0; i < plain.size(); i += piece)
    out += s.append(std::string_view(plain).substr(i, piece));
  return out + s.finish();
}

seal_result<std::string> open_in_pieces(const keyring& ring, const std::string& sealed, std::size_t piece) {
  opener o(ring, name);
  std::string out;
  for (std::size_t i = 0; i < sealed.size(); i += piece) {
    auto part = o.feed(std::string_view(sealed).substr(i, piece));
    if (!part) return part.error();
    out += *part;
  }
  auto last = o.finish();
  if (!last) return last.error();
  return out + *last;
}

constexpr std::size_t ki64 = record_plaintext_size;
const std::size_t sizes[] = {0, 1, ki64 - 1, ki64, ki64 + 1, 1u << 20};

}  // namespace

BOOST_AUTO_TEST_SUITE(seal_suite)

BOOST_DATA_TEST_CASE(round_trip_at_record_boundaries, data::make(sizes), size) {
  const auto plain = random_bytes(size);
  const auto sealed = seal_object(key_of(hex_a), name, plain);
  BOOST_TEST(sealed.size() == sealed_size(size));
  BOOST_TEST(is_sealed(sealed));
  if (size >= 16) BOOST_TEST(sealed.find(plain.substr(0, 16)) == std::string::npos);  // no plaintext shows
  auto opened = open_object(ring_of({hex_a}), name, sealed);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST((*opened == plain));
}

BOOST_DATA_TEST_CASE(streaming_in_odd_pieces, data::make({1, 7, 1000, 65535, 65553, 300000}), piece) {
  const auto plain = random_bytes(3 * ki64 + 12345, 11);
  const auto sealed = seal_in_pieces(key_of(hex_b), plain, static_cast<std::size_t>(piece));
  BOOST_TEST(sealed.size() == sealed_size(plain.size()));
  auto opened = open_in_pieces(ring_of({hex_b}), sealed, static_cast<std::size_t>(piece) + 3);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST((*opened == plain));
}

BOOST_AUTO_TEST_CASE(flipping_any_byte_fails_authentication) {
  const auto plain = random_bytes(ki64 + 100);
  const auto sealed = seal_object(key_of(hex_a), name, plain);
  const auto ring = ring_of({hex_a});
  // Every header byte, and bytes of each record's ciphertext and tag.
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < header_size; ++i)
    positions.push_back(i);
  for (std::size_t i : {header_size, header_size + 500, header_size + ki64, header_size + ki64 + 15,
                        header_size + record_sealed_size, sealed.size() - 17, sealed.size() - 1})
    positions.push_back(i);
  for (std::size_t i : positions) {
    auto bent = sealed;
    bent[i] = static_cast<char>(bent[i] ^ 0x01);
    auto opened = open_object(ring, name, bent);
    BOOST_TEST_INFO("byte " << i);
    BOOST_TEST(!opened.has_value());
  }
}

BOOST_AUTO_TEST_CASE(a_tag_failure_says_so) {
  auto sealed = seal_object(key_of(hex_a), name, "hello");
  sealed.back() = static_cast<char>(sealed.back() ^ 0x80);
  auto opened = open_object(ring_of({hex_a}), name, sealed);
  BOOST_REQUIRE(!opened.has_value());
  BOOST_TEST((opened.error().kind == failure::fails_authentication));
  BOOST_TEST(opened.error().message == "fails authentication (tampered, truncated or corrupted)");
}

BOOST_AUTO_TEST_CASE(truncation_at_a_record_boundary_fails) {
  const auto plain = random_bytes(2 * ki64 + 10);
  const auto sealed = seal_object(key_of(hex_a), name, plain);
  const auto ring = ring_of({hex_a});
  for (std::size_t records : {0, 1, 2}) {
    auto opened = open_object(ring, name, sealed.substr(0, header_size + records * record_sealed_size));
    BOOST_TEST_INFO("after " << records << " records");
    BOOST_REQUIRE(!opened.has_value());
    BOOST_TEST((opened.error().kind == failure::fails_authentication));
  }
  BOOST_TEST(!open_object(ring, name, sealed.substr(0, sealed.size() - 1)).has_value());
  BOOST_TEST(!open_object(ring, name, sealed.substr(0, header_size - 1)).has_value());
}

BOOST_AUTO_TEST_CASE(an_exact_multiple_of_a_record_cannot_lose_its_empty_final_record) {
  const auto sealed = seal_object(key_of(hex_a), name, random_bytes(2 * ki64));
  BOOST_TEST(sealed.size() == header_size + 2 * record_sealed_size + tag_size);
  BOOST_TEST(!open_object(ring_of({hex_a}), name, sealed.substr(0, sealed.size() - tag_size)).has_value());
}

BOOST_AUTO_TEST_CASE(swapping_two_records_fails) {
  const auto plain = random_bytes(3 * ki64);
  const auto sealed = seal_object(key_of(hex_a), name, plain);
  const auto first = sealed.substr(header_size, record_sealed_size);
  const auto second = sealed.substr(header_size + record_sealed_size, record_sealed_size);
  auto swapped = sealed.substr(0, header_size) + second + first + sealed.substr(header_size + 2 * record_sealed_size);
  BOOST_TEST(swapped.size() == sealed.size());
  BOOST_TEST(!open_object(ring_of({hex_a}), name, swapped).has_value());
}

BOOST_AUTO_TEST_CASE(the_same_bytes_under_another_object_name_fail) {
  const auto sealed = seal_object(key_of(hex_a), name, "page bytes");
  BOOST_TEST(open_object(ring_of({hex_a}), name, sealed).has_value());
  auto renamed = open_object(ring_of({hex_a}), "generations/0001/wal/00000001-00000002.wal.lz4", sealed);
  BOOST_REQUIRE(!renamed.has_value());
  BOOST_TEST((renamed.error().kind == failure::fails_authentication));
}

BOOST_AUTO_TEST_CASE(a_key_not_in_the_ring_is_named) {
  const auto sealed = seal_object(key_of(hex_a), name, "x");
  auto opened = open_object(ring_of({hex_b}), name, sealed);
  BOOST_REQUIRE(!opened.has_value());
  BOOST_TEST((opened.error().kind == failure::unknown_key));
  const auto id = key_of(hex_a).id().hex();
  BOOST_TEST(id.size() == 16u);
  BOOST_TEST(opened.error().message == "encrypted with key " + id + ", which is not among the given keys");
  BOOST_TEST(key_id_of(sealed).value().hex() == id);
}

BOOST_AUTO_TEST_CASE(a_forged_key_id_does_not_open_with_the_named_key) {
  // The key id says hex_b, the records were sealed under hex_a: the tag (over the header) fails.
  auto sealed = seal_object(key_of(hex_a), name, "x");
  const auto b = key_of(hex_b).id();
  std::copy(b.bytes.begin(), b.bytes.end(), sealed.begin() + magic.size() + 1);
  auto opened = open_object(ring_of({hex_a, hex_b}), name, sealed);
  BOOST_REQUIRE(!opened.has_value());
  BOOST_TEST((opened.error().kind == failure::fails_authentication));
}

BOOST_AUTO_TEST_CASE(every_key_of_the_ring_opens_the_current_one_seals) {
  const auto ring = ring_of({hex_b, hex_a, hex_b});
  BOOST_TEST(ring.size() == 2u);
  BOOST_TEST((ring.current()->id() == key_of(hex_b).id()));
  BOOST_TEST(open_object(ring, name, seal_object(key_of(hex_a), name, "old")).value() == "old");
  BOOST_TEST(open_object(ring, name, seal_object(key_of(hex_b), name, "new")).value() == "new");
}

BOOST_AUTO_TEST_CASE(plaintext_is_not_sealed) {
  BOOST_TEST(!is_sealed("\x04\x22\x4d\x18 an lz4 frame"));
  BOOST_TEST(!is_sealed(""));
  auto opened = open_object(ring_of({hex_a}), name, "\x04\x22\x4d\x18 an lz4 frame");
  BOOST_REQUIRE(!opened.has_value());
  BOOST_TEST((opened.error().kind == failure::not_sealed));
  BOOST_TEST((open_object(ring_of({hex_a}), name, "").error().kind == failure::not_sealed));
}

BOOST_AUTO_TEST_CASE(two_seals_of_the_same_bytes_differ) {
  BOOST_TEST(seal_object(key_of(hex_a), name, "same") != seal_object(key_of(hex_a), name, "same"));
}

BOOST_AUTO_TEST_CASE(keys_are_64_hex_characters_whitespace_aside) {
  BOOST_TEST(key::from_hex("  " + hex_b + "\n").has_value());
  BOOST_TEST((key::from_hex(hex_b).value().id() == key_of(hex_b).id()));
  for (const std::string& bad : {std::string(), hex_a.substr(1), hex_a + "a", "g" + hex_a.substr(1),
                                 hex_a.substr(0, 32) + " " + hex_a.substr(32)}) {
    auto k = key::from_hex(bad);
    BOOST_REQUIRE(!k.has_value());
    BOOST_TEST((k.error().kind == failure::malformed_key));
    BOOST_TEST(k.error().message.find("64 hex characters") != std::string::npos);
    BOOST_TEST(k.error().message.find(hex_a.substr(0, 16)) == std::string::npos);  // never echoes the key
  }
}

BOOST_AUTO_TEST_CASE(offsets_map_to_the_record_that_holds_them) {
  BOOST_TEST(position_of(0).record == 0u);
  BOOST_TEST(position_of(0).sealed_offset == header_size);
  BOOST_TEST(position_of(ki64 - 1).record == 0u);
  BOOST_TEST(position_of(ki64 - 1).skip == ki64 - 1);
  BOOST_TEST(position_of(ki64).record == 1u);
  BOOST_TEST(position_of(ki64).skip == 0u);
  BOOST_TEST(position_of(ki64).sealed_offset == header_size + record_sealed_size);
  BOOST_TEST(position_of(5 * ki64 + 3).sealed_offset == header_size + 5 * record_sealed_size);
  BOOST_TEST(position_of(5 * ki64 + 3).skip == 3u);
}

BOOST_AUTO_TEST_CASE(an_opener_resumes_at_a_record) {
  const auto plain = random_bytes(3 * ki64 + 99);
  const auto sealed = seal_object(key_of(hex_a), name, plain);
  const auto at = position_of(2 * ki64 + 5);
  opener o(ring_of({hex_a}), name, at.record);
  auto head = o.feed(std::string_view(sealed).substr(0, header_size));
  BOOST_REQUIRE(head.has_value());
  auto body = o.feed(std::string_view(sealed).substr(at.sealed_offset));
  BOOST_REQUIRE(body.has_value());
  auto last = o.finish();
  BOOST_REQUIRE(last.has_value());
  BOOST_TEST(((*head + *body + *last) == plain.substr(2 * ki64)));
  // Record 1 fed as if it were record 2 fails.
  opener wrong(ring_of({hex_a}), name, 2);
  BOOST_REQUIRE(wrong.feed(std::string_view(sealed).substr(0, header_size)).has_value());
  BOOST_TEST(!wrong.feed(std::string_view(sealed).substr(header_size + record_sealed_size)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
