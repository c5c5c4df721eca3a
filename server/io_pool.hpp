// io_pool — the HTTP threads: one io_context per thread, so a connection, its preferred reader and
// every reply to it stay on one thread, without cross-thread wake-ups. New connections are spread
// round-robin. A context run by exactly one thread is an implicit strand.
#pragma once
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

namespace monolite::server {

class io_pool {
 public:
  explicit io_pool(unsigned threads);
  io_pool(const io_pool&) = delete;
  io_pool& operator=(const io_pool&) = delete;

  std::size_t size() const { return contexts_.size(); }
  boost::asio::io_context& context(std::size_t index) { return *contexts_[index]; }
  // Where the next connection goes.
  std::size_t next_index() { return next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size(); }

  // Runs every context on a thread of its own (this thread runs the first); returns once stop()
  // was called and every thread has finished.
  void run();
  void stop();  // thread-safe

 private:
  using guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<guard> guards_;  // keep idle contexts running until stop()
  std::atomic<std::size_t> next_{0};
};

}  // namespace monolite::server
