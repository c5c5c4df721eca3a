#include "replica/download_pipe.hpp"

namespace monolite::replica {

download_pipe::download_pipe(object_store& store, std::string key, std::size_t max_pieces)
    : max_pieces_(std::max<std::size_t>(1, max_pieces)) {
  thread_ = std::thread([this, &store, key = std::move(key)] {
    auto done = store.get_to(key, 0, [this](std::string_view piece) { return push(piece); });
    {
      std::lock_guard lock(mutex_);
      finished_ = std::move(done);
    }
    changed_.notify_all();
  });
}

download_pipe::~download_pipe() {
  {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool download_pipe::push(std::string_view piece) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return abandoned_ || pieces_.size() < max_pieces_; });
  if (abandoned_) return false;
  pieces_.emplace_back(piece);
  lock.unlock();
  changed_.notify_all();
  return true;
}

store_result<std::optional<std::string>> download_pipe::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !pieces_.empty() || finished_.has_value(); });
  if (!pieces_.empty()) {
    std::string piece = std::move(pieces_.front());
    pieces_.pop_front();
    lock.unlock();
    changed_.notify_all();
    return std::optional<std::string>(std::move(piece));
  }
  if (!*finished_) return finished_->error();
  return std::optional<std::string>();
}

}  // namespace monolite::replica
