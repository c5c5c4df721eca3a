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

template <class Call>
auto retrying_store::with_retries(Call call) -> decltype(call()) {
  const auto deadline = std::chrono::steady_clock::now() + policy_.give_up_after;
  for (unsigned attempt = 1;; ++attempt) {
    auto outcome = call();
    if (outcome || !outcome.error().retryable()) return outcome;
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

store_result<std::vector<object_info>> retrying_store::list(const std::string& prefix) {
  return with_retries([&] { return inner_.list(prefix); });
}

store_result<void> retrying_store::remove(const std::vector<std::string>& keys) {
  return with_retries([&] { return inner_.remove(keys); });
}

}  // namespace monolite::replica
