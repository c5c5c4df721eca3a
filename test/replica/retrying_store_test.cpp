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

namespace {

// An object of `size` bytes whose downloads break off (retryably) after `break_after` bytes, each
// attempt; records the offset every attempt asked for.
class breaking_store final : public object_store {
 public:
  breaking_store(std::size_t size, std::size_t break_after) : bytes_(size, '\0'), break_after_(break_after) {
    for (std::size_t i = 0; i < size; ++i)
      bytes_[i] = static_cast<char>(i % 251);
  }
  std::string describe() const override { return "breaking"; }
  store_result<void> put(const std::string&, std::string_view) override { return {}; }
  store_result<std::string> get(const std::string&) override { return bytes_; }
  store_result<std::vector<object_info>> list(const std::string&) override { return std::vector<object_info>{}; }
  store_result<void> remove(const std::vector<std::string>&) override { return {}; }
  store_result<void> get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) override {
    offsets.push_back(offset);
    const std::size_t end = std::min(bytes_.size(), std::size_t(offset) + break_after_);
    for (std::size_t at = offset; at < end; at += 3)  // small pieces
      if (!sink(std::string_view(bytes_).substr(at, std::min<std::size_t>(3, end - at))))
        return store_error{store_failure::other, "stopped"};
    if (end < bytes_.size()) return store_error{store_failure::unreachable, key + ": connection reset"};
    return {};
  }
  const std::string& bytes() const { return bytes_; }
  std::vector<std::uint64_t> offsets;

 private:
  std::string bytes_;
  std::size_t break_after_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_broken_download_resumes_where_it_stopped) {
  breaking_store inner(1000, 300);
  retrying_store store(inner, quick());
  std::string got;
  auto done = store.get_to("obj", 0, [&](std::string_view piece) { return got.append(piece), true; });
  BOOST_REQUIRE(done.has_value());
  BOOST_TEST(got == inner.bytes());  // every byte exactly once
  BOOST_TEST((inner.offsets == std::vector<std::uint64_t>{0, 300, 600, 900}));
}

BOOST_AUTO_TEST_CASE(a_download_that_keeps_progressing_is_not_given_up_on) {
  // Each attempt breaks; more attempts than the backoff alone would allow within the time limit,
  // yet it completes: progress restarts the clock and the attempt count.
  breaking_store inner(100, 1);
  auto policy = quick(50ms);
  policy.first_backoff = policy.max_backoff = 40ms;
  retrying_store store(inner, policy);
  std::string got;
  auto done = store.get_to("obj", 0, [&](std::string_view piece) { return got.append(piece), true; });
  BOOST_REQUIRE_MESSAGE(done.has_value(), (done.has_value() ? std::string() : done.error().message));
  BOOST_TEST(got == inner.bytes());
  BOOST_TEST(inner.offsets.size() == 100u);
}

BOOST_AUTO_TEST_CASE(a_download_stopped_by_its_reader_is_not_retried) {
  breaking_store inner(1000, 300);
  retrying_store store(inner, quick());
  auto done = store.get_to("obj", 0, [](std::string_view) { return false; });
  BOOST_TEST(!done.has_value());
  BOOST_TEST(inner.offsets.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
