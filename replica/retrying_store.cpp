#include "replica/retrying_store.hpp"

#include <algorithm>
#include <thread>

namespace monolite::replica {

// Full jitter (a random wait between 0 and the capped exponential step), so that parallel
// downloads that failed together do not retry together.
std::chrono::milliseconds retrying_store::backoff(unsigned attempt) {
  const auto step = policy_.first_backoff.count() << std::min(attempt, 16u);
  const auto cap = std::min<std::int64_t>(step, policy_.max_backoff.count());
  std::lock_guard lock(random_mutex_);
  return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(cap / 2, cap)(random_));
}

template <class Call, class Progressed>
auto retrying_store::with_retries(Call call, Progressed progressed) -> decltype(call()) {
  auto deadline = std::chrono::steady_clock::now() + policy_.give_up_after;
  for (unsigned attempt = 1;; ++attempt) {
    auto outcome = call();
    if (outcome || !outcome.error().retryable()) return outcome;
    if (progressed()) {
      if (policy_.on_retry) policy_.on_retry(outcome.error(), attempt);
      deadline = std::chrono::steady_clock::now() + policy_.give_up_after, attempt = 0;
      continue;  // resume at once from where it broke off
    }
    const auto wait = backoff(attempt - 1);
    if (std::chrono::steady_clock::now() + wait >= deadline || (policy_.stop_retrying && policy_.stop_retrying())) {
      auto error = outcome.error();
      error.message += " (gave up after " + std::to_string(attempt) + " attempts)";
      return error;
    }
    if (policy_.on_retry) policy_.on_retry(outcome.error(), attempt);
    std::this_thread::sleep_for(wait);
  }
}

store_result<void> retrying_store::put(const std::string& key, std::string_view bytes) {
  return with_retries([&] { return inner_.put(key, bytes); });
}

store_result<std::string> retrying_store::get(const std::string& key) {
  return with_retries([&] { return inner_.get(key); });
}

// A broken download resumes from the byte it reached rather than from the start, and an attempt
// that made progress starts the time limit and the backoff afresh, so a long download is not given
// up on for being long.
store_result<void> retrying_store::get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) {
  std::uint64_t reached = offset, attempt_from = offset;
  const byte_sink counting = [&](std::string_view piece) {
    reached += piece.size();
    return sink(piece);
  };
  return with_retries([&] { return attempt_from = reached, inner_.get_to(key, reached, counting); },
                      [&] { return reached > attempt_from; });
}

store_result<std::unique_ptr<object_writer>> retrying_store::begin_put(const std::string& key) {
  return inner_.begin_put(key);
}

store_result<std::vector<object_info>> retrying_store::list(const std::string& prefix) {
  return with_retries([&] { return inner_.list(prefix); });
}

store_result<void> retrying_store::remove(const std::vector<std::string>& keys) {
  return with_retries([&] { return inner_.remove(keys); });
}

}  // namespace monolite::replica
