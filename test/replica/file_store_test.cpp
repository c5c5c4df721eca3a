// file_store: the object_store contract on a local directory.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "replica/object_store.hpp"
#include "support/temp_dir.hpp"

using namespace monolite::replica;
namespace fs = std::filesystem;

namespace {

// The value of a store call, or the test stops with the store's message.
template <class T>
T require(store_result<T> result) {
  BOOST_REQUIRE_MESSAGE(result.has_value(), result.error().message);
  return std::move(*result);
}

struct file_store_fixture {
  monolite::test::temp_dir dir;
  std::unique_ptr<object_store> store = require(open_store("file://" + dir.path().string() + "/replica/"));

  std::vector<std::string> files_on_disk() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
      if (entry.is_regular_file()) out.push_back(fs::relative(entry.path(), dir.path()).generic_string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::vector<std::string> keys_of(const std::vector<object_info>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects)
    out.push_back(o.key);
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(replica_file_store, file_store_fixture)

BOOST_AUTO_TEST_CASE(put_get_round_trips_binary_bytes) {
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes += static_cast<char>(i);
  BOOST_REQUIRE(store->put("gen/a b/obj.bin", bytes).has_value());
  BOOST_TEST(require(store->get("gen/a b/obj.bin")) == bytes);
  BOOST_REQUIRE(store->put("gen/a b/obj.bin", "new").has_value());
  BOOST_TEST(require(store->get("gen/a b/obj.bin")) == "new");
  BOOST_REQUIRE(store->put("empty", "").has_value());
  BOOST_TEST(require(store->get("empty")) == "");
  // Every put went through a temporary file, and none is left.
  BOOST_TEST((files_on_disk() == std::vector<std::string>{"replica/empty", "replica/gen/a b/obj.bin"}));
}

BOOST_AUTO_TEST_CASE(missing_key_is_not_found) {
  auto missing = store->get("nope");
  BOOST_REQUIRE(missing.has_error());
  BOOST_TEST((missing.error().kind == store_failure::not_found));
  BOOST_TEST(missing.error().message.find("nope") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(list_is_sorted_and_filtered_by_prefix) {
  BOOST_TEST(require(store->list("")).empty());  // the directory does not exist yet
  for (const char* key : {"b/2", "a/1", "b/1", "bb", "c"})
    BOOST_REQUIRE(store->put(key, key).has_value());
  const auto all = require(store->list(""));
  BOOST_TEST((keys_of(all) == std::vector<std::string>{"a/1", "b/1", "b/2", "bb", "c"}));
  BOOST_TEST(all[0].size == 3u);
  BOOST_TEST((keys_of(require(store->list("b"))) == std::vector<std::string>{"b/1", "b/2", "bb"}));
  BOOST_TEST((keys_of(require(store->list("b/"))) == std::vector<std::string>{"b/1", "b/2"}));
  BOOST_TEST(require(store->list("z")).empty());
}

BOOST_AUTO_TEST_CASE(remove_deletes_and_ignores_missing_keys) {
  for (const char* key : {"x/1", "x/2", "y"})
    BOOST_REQUIRE(store->put(key, key).has_value());
  BOOST_REQUIRE(store->remove({"x/1", "y", "never-there"}).has_value());
  BOOST_TEST((keys_of(require(store->list(""))) == std::vector<std::string>{"x/2"}));
  BOOST_REQUIRE(store->remove({}).has_value());
}

BOOST_AUTO_TEST_CASE(describe_and_bad_urls) {
  BOOST_TEST(store->describe() == "file://" + (dir.path() / "replica").string());
  auto relative = open_store("file://relative/path");
  BOOST_REQUIRE(relative.has_error());
  BOOST_TEST((relative.error().kind == store_failure::bad_url));
  BOOST_TEST((open_store("ftp://x").error().kind == store_failure::bad_url));
}

namespace {
std::string streamed(object_store& store, const std::string& key, std::uint64_t offset) {
  std::string out;
  auto done = store.get_to(key, offset, [&](std::string_view piece) { return out.append(piece), true; });
  BOOST_REQUIRE_MESSAGE(done.has_value(), (done.has_value() ? std::string() : done.error().message));
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(get_to_streams_from_any_offset) {
  std::string bytes(3 << 20, '\0');  // three of the store's read pieces
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(i * 7 + i / 4096);
  BOOST_REQUIRE(store->put("big", bytes).has_value());
  for (std::uint64_t offset :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 20, bytes.size() - 1, bytes.size()})
    BOOST_TEST((streamed(*store, "big", offset) == bytes.substr(offset)), "offset " << offset);
  auto past = store->get_to("big", bytes.size() + 1, [](std::string_view) { return true; });
  BOOST_TEST(!past.has_value());
  auto missing = store->get_to("none", 0, [](std::string_view) { return true; });
  BOOST_REQUIRE(!missing.has_value());
  BOOST_TEST((missing.error().kind == store_failure::not_found));
  int pieces = 0;
  auto stopped = store->get_to("big", 0, [&](std::string_view) { return ++pieces < 2; });
  BOOST_REQUIRE(!stopped.has_value());
  BOOST_TEST(pieces == 2);
  BOOST_TEST(stopped.error().message.find("stopped by the reader") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(begin_put_shows_the_object_only_once_committed) {
  auto writer = require(store->begin_put("gen/streamed"));
  BOOST_REQUIRE(writer->write("part one, ").has_value());
  BOOST_REQUIRE(writer->write("part two").has_value());
  BOOST_TEST(writer->bytes_written() == 18u);
  BOOST_TEST(require(store->list("")).empty());  // written, not committed: invisible
  BOOST_TEST(!store->get("gen/streamed").has_value());
  BOOST_REQUIRE(writer->commit().has_value());
  BOOST_TEST(require(store->get("gen/streamed")) == "part one, part two");
  writer.reset();
  BOOST_TEST((files_on_disk() == std::vector<std::string>{"replica/gen/streamed"}));
}

BOOST_AUTO_TEST_CASE(an_abandoned_put_leaves_nothing_behind) {
  BOOST_REQUIRE(store->put("gen/kept", "old").has_value());
  {
    auto writer = require(store->begin_put("gen/kept"));
    BOOST_REQUIRE(writer->write("new bytes never committed").has_value());
  }
  BOOST_TEST(require(store->get("gen/kept")) == "old");
  BOOST_TEST((files_on_disk() == std::vector<std::string>{"replica/gen/kept"}));
}

BOOST_AUTO_TEST_SUITE_END()
