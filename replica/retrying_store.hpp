// retrying_store — an object_store that retries what is worth retrying: 5xx and throttling
// (SlowDown), connection failures, resets, timeouts and truncated replies (store_error::retryable()),
// with capped exponential backoff and full jitter, each call bounded by `give_up_after`. Not found,
// denied and bad URLs fail at once. Used by restore (and so by verify and restore at boot), where
// one transient error must not fail a whole restore; the shipper has a backoff of its own.
#pragma once
#include <chrono>
#include <functional>
#include <mutex>
#include <random>

#include "replica/object_store.hpp"

namespace monolite::replica {

struct retry_policy {
  std::chrono::milliseconds give_up_after{std::chrono::minutes(2)};  // per call, from its first attempt
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // Called before each retry with the failure and the attempt number (for progress lines).
  std::function<void(const store_error&, unsigned attempt)> on_retry;
  // Polled before each retry: once true, the last failure is returned at once (a shutdown).
  std::function<bool()> stop_retrying;
};

class retrying_store final : public object_store {
 public:
  retrying_store(object_store& inner, retry_policy policy) : inner_(inner), policy_(std::move(policy)) {}

  std::string describe() const override { return inner_.describe(); }
  store_result<void> put(const std::string& key, std::string_view bytes) override;
  store_result<std::string> get(const std::string& key) override;
  store_result<std::vector<object_info>> list(const std::string& prefix) override;
  store_result<void> get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) override;
  // Uploads piece by piece are not retried here (the shipper retries whole objects).
  store_result<std::unique_ptr<object_writer>> begin_put(const std::string& key) override;
  store_result<void> remove(const std::vector<std::string>& keys) override;

 private:
  // `progressed()` says whether the failed attempt got somewhere (a download that broke off late).
  template <class Call, class Progressed = bool (*)()>
  auto with_retries(
      Call call, Progressed progressed = [] { return false; }) -> decltype(call());
  std::chrono::milliseconds backoff(unsigned attempt);

  object_store& inner_;
  retry_policy policy_;
  std::mutex random_mutex_;  // calls come from several download threads
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace monolite::replica
