#include "server/io_pool.hpp"

#include <boost/asio/post.hpp>
#include <thread>

#include "common/log.hpp"

namespace monolite::server {
namespace {

// A handler that throws is a bug; log it and keep serving rather than take every connection down.
void run_logging_exceptions(boost::asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      log::error("unexpected exception in a request handler", {{"error", e.what()}});
    }
  }
}

}  // namespace

io_pool::io_pool(unsigned threads) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

void io_pool::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i)
    threads.emplace_back([this, i] { run_logging_exceptions(*contexts_[i]); });
  run_logging_exceptions(*contexts_[0]);
  for (auto& t : threads) t.join();
}

void io_pool::stop() {
  for (auto& ctx : contexts_) ctx->stop();
}

}  // namespace monolite::server
