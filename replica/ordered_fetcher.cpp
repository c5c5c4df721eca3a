#include "replica/ordered_fetcher.hpp"

namespace monolite::replica {

ordered_fetcher::ordered_fetcher(object_store& store, std::vector<std::string> keys, unsigned threads,
                                 std::size_t window)
    : store_(store), keys_(std::move(keys)), window_(std::max<std::size_t>(1, window)), results_(keys_.size()) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i)
    threads_.emplace_back([this] { work(); });
}

ordered_fetcher::~ordered_fetcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void ordered_fetcher::work() {
  for (;;) {
    std::size_t mine;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] {
        return stopping_ || next_to_fetch_ >= keys_.size() || next_to_fetch_ < next_to_hand_out_ + window_;
      });
      if (stopping_ || next_to_fetch_ >= keys_.size()) return;
      mine = next_to_fetch_++;
    }
    auto bytes = store_.get(keys_[mine]);
    {
      std::lock_guard lock(mutex_);
      results_[mine] = std::move(bytes);
    }
    changed_.notify_all();
  }
}

store_result<std::string> ordered_fetcher::next() {
  std::unique_lock lock(mutex_);
  const std::size_t mine = next_to_hand_out_;
  changed_.wait(lock, [&] { return results_[mine].has_value(); });
  auto out = std::move(*results_[mine]);
  results_[mine].reset();
  ++next_to_hand_out_;
  lock.unlock();
  changed_.notify_all();
  return out;
}

}  // namespace monolite::replica
