#include "server/io_pool.hpp"

#include <boost/asio/post.hpp>
#include <thread>

#include "common/fatal.hpp"

namespace monolite::server {
namespace {

// An exception escaping a completion handler is a bug (common/fatal.hpp): log it and abort, as on
// every other thread. Route handlers' own exceptions are answered 500 by the router instead.
void run_or_die(boost::asio::io_context& ioc) {
  try {
    ioc.run();
  } catch (...) {
    fatal::die("HTTP thread");
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
    threads.emplace_back([this, i] { run_or_die(*contexts_[i]); });
  run_or_die(*contexts_[0]);
  for (auto& t : threads)
    t.join();
}

void io_pool::stop() {
  for (auto& ctx : contexts_)
    ctx->stop();
}

}  // namespace monolite::server
