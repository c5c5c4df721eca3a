// Downloads a list of objects with several threads at once and hands them out strictly in list
// order; at most `window` objects are held ahead of the consumer, so memory stays bounded.
#pragma once
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "replica/object_store.hpp"

namespace monolite::replica {

class ordered_fetcher {
 public:
  ordered_fetcher(object_store& store, std::vector<std::string> keys, unsigned threads, std::size_t window);
  ~ordered_fetcher();
  ordered_fetcher(const ordered_fetcher&) = delete;
  ordered_fetcher& operator=(const ordered_fetcher&) = delete;

  // The next object in order (blocks until it has arrived).
  store_result<std::string> next();

 private:
  void work();

  object_store& store_;
  std::vector<std::string> keys_;
  std::size_t window_;
  std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  std::vector<std::optional<store_result<std::string>>> results_;
  std::size_t next_to_fetch_ = 0, next_to_hand_out_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace monolite::replica
