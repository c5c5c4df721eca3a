#include "replica/sealed_store.hpp"

#include <boost/test/unit_test.hpp>
#include <random>

#include "support/temp_dir.hpp"

using namespace monolite::replica;

namespace {

const std::string hex_old(64, '1'), hex_new(64, '2');
const std::string object = "generations/0001/wal/00000001-00000001.wal.lz4";
constexpr std::size_t ki64 = seal::record_plaintext_size;

seal::keyring ring_of(std::initializer_list<std::string> hexes) {
  seal::keyring ring;
  for (const auto& h : hexes)
    ring.add(seal::key::from_hex(h).value());
  return ring;
}

std::string id_of(const std::string& hex) { return seal::key::from_hex(hex).value().id().hex(); }

std::string random_bytes(std::size_t n) {
  std::mt19937 gen(3);
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(gen());
  return out;
}

// One file:// replica seen raw and through sealed stores with different keyrings.
struct replica_dir {
  monolite::test::temp_dir dir;
  std::string url = "file://" + dir.path().string() + "/replica";
  std::unique_ptr<object_store> raw = open_store(url).value();
  std::unique_ptr<sealed_store> with(const seal::keyring& keys) { return open_sealed_store(url, keys).value(); }
};

// get_to's pieces, joined.
store_result<std::string> download(object_store& store, std::uint64_t offset) {
  std::string out;
  auto done = store.get_to(object, offset, [&](std::string_view piece) {
    out.append(piece);
    return true;
  });
  if (!done) return done.error();
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sealed_store_suite)

BOOST_AUTO_TEST_CASE(put_seals_and_get_opens) {
  replica_dir r;
  auto store = r.with(ring_of({hex_new}));
  const std::string plain = "monolite-secret-marker " + random_bytes(1000);
  BOOST_REQUIRE(store->put(object, plain).has_value());
  const auto stored = r.raw->get(object).value();
  BOOST_TEST(seal::is_sealed(stored));
  BOOST_TEST(stored.find("monolite-secret-marker") == std::string::npos);
  BOOST_TEST((store->get(object).value() == plain));
  BOOST_TEST(store->list("generations/").value().size() == 1u);
  BOOST_TEST(store->sealed_with(object).value().value().hex() == id_of(hex_new));
  BOOST_TEST(store->sealing_key().value().hex() == id_of(hex_new));
}

BOOST_AUTO_TEST_CASE(without_keys_objects_pass_through) {
  replica_dir r;
  auto store = r.with({});
  BOOST_REQUIRE(store->put(object, "plain bytes").has_value());
  BOOST_TEST(r.raw->get(object).value() == "plain bytes");
  BOOST_TEST(store->get(object).value() == "plain bytes");
  BOOST_TEST(download(*store, 0).value() == "plain bytes");
  BOOST_TEST(download(*store, 6).value() == "bytes");
  BOOST_TEST(!store->sealed_with(object).value().has_value());
  BOOST_TEST(!store->sealing_key().has_value());
}

BOOST_AUTO_TEST_CASE(a_plaintext_object_is_refused_when_keys_are_given) {
  replica_dir r;
  BOOST_REQUIRE(r.raw->put(object, "slipped in").has_value());
  auto store = r.with(ring_of({hex_new}));
  for (auto got : {store->get(object), download(*store, 0)}) {
    BOOST_REQUIRE(!got.has_value());
    BOOST_TEST((got.error().kind == store_failure::other));
    BOOST_TEST(got.error().message == object + ": not encrypted, but encryption keys were given");
  }
}

BOOST_AUTO_TEST_CASE(a_reader_without_keys_is_told_which_key_to_give) {
  replica_dir r;
  BOOST_REQUIRE(r.with(ring_of({hex_old}))->put(object, random_bytes(3 * ki64)).has_value());
  auto store = r.with({});
  const auto expected = object + ": the replica is encrypted (key " + id_of(hex_old) +
                        "); give its key with --replica-encryption-key-file or MONOLITE_REPLICA_ENCRYPTION_KEY";
  auto got = store->get(object);
  BOOST_REQUIRE(!got.has_value());
  BOOST_TEST(got.error().message == expected);
  std::size_t handed_on = 0;
  auto streamed = store->get_to(object, 0, [&](std::string_view piece) { return handed_on += piece.size(), true; });
  BOOST_REQUIRE(!streamed.has_value());
  BOOST_TEST(streamed.error().message == expected);
  BOOST_TEST(handed_on == 0u);
}

BOOST_AUTO_TEST_CASE(a_key_not_given_is_named) {
  replica_dir r;
  BOOST_REQUIRE(r.with(ring_of({hex_old}))->put(object, "x").has_value());
  auto got = r.with(ring_of({hex_new}))->get(object);
  BOOST_REQUIRE(!got.has_value());
  BOOST_TEST((got.error().kind == store_failure::other));
  BOOST_TEST(got.error().message ==
             object + ": encrypted with key " + id_of(hex_old) + ", which is not among the given keys");
  BOOST_TEST(r.with(ring_of({hex_new, hex_old}))->get(object).value() == "x");
}

BOOST_AUTO_TEST_CASE(a_tampered_object_fails_authentication) {
  replica_dir r;
  auto store = r.with(ring_of({hex_new}));
  const auto plain = random_bytes(2 * ki64 + 3);
  BOOST_REQUIRE(store->put(object, plain).has_value());
  auto bytes = r.raw->get(object).value();
  bytes[bytes.size() - 1] ^= 0x40;  // the final record's tag
  BOOST_REQUIRE(r.raw->put(object, bytes).has_value());
  const auto expected = object + ": fails authentication (tampered, truncated or corrupted)";
  auto got = store->get(object);
  BOOST_REQUIRE(!got.has_value());
  BOOST_TEST(got.error().message == expected);
  BOOST_TEST(!got.error().retryable());
  auto streamed = download(*store, 0);
  BOOST_REQUIRE(!streamed.has_value());
  BOOST_TEST(streamed.error().message == expected);
}

BOOST_AUTO_TEST_CASE(get_to_starts_at_any_offset) {
  replica_dir r;
  auto store = r.with(ring_of({hex_new}));
  const auto plain = random_bytes(3 * ki64 + 500);
  BOOST_REQUIRE(store->put(object, plain).has_value());
  for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{1}, ki64 - 1, ki64, ki64 + 1, 2 * ki64 + 7, 3 * ki64,
                               std::uint64_t{plain.size() - 1}, std::uint64_t{plain.size()}}) {
    BOOST_TEST_INFO("offset " << offset);
    auto got = download(*store, offset);
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST((*got == plain.substr(offset)));
  }
  auto past = download(*store, plain.size() + 1);
  BOOST_REQUIRE(!past.has_value());
  BOOST_TEST(past.error().message.find(object) == 0u);
}

BOOST_AUTO_TEST_CASE(get_to_at_the_end_of_an_exact_multiple_of_a_record) {
  replica_dir r;
  auto store = r.with(ring_of({hex_new}));
  const auto plain = random_bytes(2 * ki64);
  BOOST_REQUIRE(store->put(object, plain).has_value());
  BOOST_TEST(download(*store, 2 * ki64).value().empty());
  BOOST_TEST((download(*store, ki64).value() == plain.substr(ki64)));
}

BOOST_AUTO_TEST_CASE(a_reader_may_stop_a_download) {
  replica_dir r;
  auto store = r.with(ring_of({hex_new}));
  BOOST_REQUIRE(store->put(object, random_bytes(3 * ki64)).has_value());
  auto stopped = store->get_to(object, 0, [](std::string_view) { return false; });
  BOOST_REQUIRE(!stopped.has_value());
  BOOST_TEST(stopped.error().message == object + ": download stopped by the reader");
}

BOOST_AUTO_TEST_CASE(begin_put_seals_piece_by_piece) {
  replica_dir r;
  auto store = r.with(ring_of({hex_new}));
  const auto plain = random_bytes(2 * ki64 + 77);
  auto writer = store->begin_put(object).value();
  for (std::size_t i = 0; i < plain.size(); i += 1000)
    BOOST_REQUIRE(writer->write(std::string_view(plain).substr(i, 1000)).has_value());
  BOOST_TEST(!r.raw->get(object).has_value());  // nothing visible before commit()
  BOOST_REQUIRE(writer->commit().has_value());
  BOOST_TEST(writer->bytes_written() == seal::sealed_size(plain.size()));
  BOOST_TEST(seal::is_sealed(r.raw->get(object).value()));
  BOOST_TEST((store->get(object).value() == plain));
}

BOOST_AUTO_TEST_SUITE_END()
