#include "replica/retrying_store.hpp"

#include <boost/test/unit_test.hpp>
#include <deque>

using namespace monolite::replica;
using namespace std::chrono_literals;

namespace {

// Answers get() with the scripted failures first, then with "bytes"; counts the calls.
class scripted_store final : public object_store {
 public:
  explicit scripted_store(std::deque<store_failure> failures) : failures_(std::move(failures)) {}
  std::string describe() const override { return "scripted"; }
  store_result<void> put(const std::string&, std::string_view) override { return {}; }
  store_result<std::string> get(const std::string& key) override {
    ++calls;
    if (failures_.empty()) return std::string("bytes");
    const auto kind = failures_.front();
    if (!always_) failures_.pop_front();
    return store_error{kind, "GET " + key + " failed"};
  }
  store_result<std::vector<object_info>> list(const std::string&) override { return std::vector<object_info>{}; }
  store_result<void> remove(const std::vector<std::string>&) override { return {}; }
  void fail_always() { always_ = true; }
  int calls = 0;

 private:
  std::deque<store_failure> failures_;
  bool always_ = false;
};

retry_policy quick(std::chrono::milliseconds give_up_after = 10s) {
  retry_policy p;
  p.give_up_after = give_up_after;
  p.first_backoff = 1ms;
  p.max_backoff = 4ms;
  return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retrying_store_suite)

BOOST_AUTO_TEST_CASE(transient_failures_are_retried_until_success) {
  scripted_store inner({store_failure::server, store_failure::unreachable, store_failure::server});
  unsigned retries_seen = 0;
  auto policy = quick();
  policy.on_retry = [&](const store_error& e, unsigned attempt) {
    BOOST_TEST(e.message.find("GET k") != std::string::npos);
    BOOST_TEST(attempt == ++retries_seen);
  };
  retrying_store store(inner, policy);
  auto got = store.get("k");
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(*got == "bytes");
  BOOST_TEST(inner.calls == 4);
  BOOST_TEST(retries_seen == 3u);
}

BOOST_AUTO_TEST_CASE(permanent_failures_are_not_retried) {
  for (auto kind : {store_failure::not_found, store_failure::denied, store_failure::bad_url, store_failure::other}) {
    scripted_store inner({kind});
    retrying_store store(inner, quick());
    auto got = store.get("k");
    BOOST_REQUIRE(got.has_error());
    BOOST_TEST((got.error().kind == kind));
    BOOST_TEST(inner.calls == 1);
  }
}

BOOST_AUTO_TEST_CASE(a_failure_that_lasts_gives_up_at_the_bound) {
  scripted_store inner({store_failure::server});
  inner.fail_always();
  retrying_store store(inner, quick(50ms));
  auto got = store.get("k");
  BOOST_REQUIRE(got.has_error());
  BOOST_TEST((got.error().kind == store_failure::server));
  BOOST_TEST(inner.calls > 2);
  BOOST_TEST(got.error().message.find("gave up after") != std::string::npos, got.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
