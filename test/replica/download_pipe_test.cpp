// download_pipe: one object handed over in order, in bounded pieces, from a thread of its own.
#include "replica/download_pipe.hpp"

#include <boost/test/unit_test.hpp>
#include <future>

using namespace monolite::replica;

namespace {

// get_to() hands out `pieces` pieces of "0123456789", then fails if told to; it reports how many
// pieces the reader had not yet taken when it was at its most ahead.
class piece_store final : public object_store {
 public:
  explicit piece_store(int pieces, bool fail_at_end = false) : pieces_(pieces), fail_at_end_(fail_at_end) {}
  std::string describe() const override { return "pieces"; }
  store_result<void> put(const std::string&, std::string_view) override { return {}; }
  store_result<std::string> get(const std::string&) override { return std::string(); }
  store_result<std::vector<object_info>> list(const std::string&) override { return std::vector<object_info>{}; }
  store_result<void> remove(const std::vector<std::string>&) override { return {}; }
  store_result<void> get_to(const std::string& key, std::uint64_t, const byte_sink& sink) override {
    for (int i = 0; i < pieces_; ++i) {
      if (!sink("0123456789")) return store_error{store_failure::other, key + ": stopped by the reader"};
      ++handed;
    }
    if (fail_at_end_) return store_error{store_failure::server, key + ": HTTP 500"};
    return {};
  }
  std::atomic<int> handed{0};

 private:
  int pieces_;
  bool fail_at_end_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(replica_download_pipe)

BOOST_AUTO_TEST_CASE(pieces_arrive_in_order_then_the_end) {
  piece_store store(50);
  download_pipe pipe(store, "k", 4);
  std::string all;
  for (;;) {
    auto piece = pipe.next();
    BOOST_REQUIRE(piece.has_value());
    if (!*piece) break;
    BOOST_TEST(store.handed.load() <= int(all.size() / 10) + 4 + 1);  // never more than 4 waiting
    all += **piece;
  }
  BOOST_TEST(all.size() == 500u);
  BOOST_TEST(all.substr(490) == "0123456789");
}

BOOST_AUTO_TEST_CASE(a_failed_download_reports_its_error_after_its_pieces) {
  piece_store store(2, true);
  download_pipe pipe(store, "k", 8);
  BOOST_TEST(pipe.next().value().value() == "0123456789");
  BOOST_TEST(pipe.next().value().value() == "0123456789");
  auto failed = pipe.next();
  BOOST_REQUIRE(!failed.has_value());
  BOOST_TEST(failed.error().message == "k: HTTP 500");
}

BOOST_AUTO_TEST_CASE(leaving_early_stops_the_download) {
  piece_store store(1'000'000);
  {
    download_pipe pipe(store, "k", 2);
    BOOST_TEST(pipe.next().value().has_value());
  }  // the destructor returns only once the download thread is done
  BOOST_TEST(store.handed.load() < 10);
}

BOOST_AUTO_TEST_SUITE_END()
