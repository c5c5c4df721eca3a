#include "actors/hrana_service.hpp"

#include <sqlite3.h>

#include <boost/asio/post.hpp>

#include "actors/hrana_pipeline.hpp"
#include "common/strand_check.hpp"

namespace monolite::actors::hrana {
namespace asio = boost::asio;

proto::result<std::shared_ptr<service>> service::open(std::shared_ptr<writer_actor> writer, reader_pool& readers,
                                                      const std::vector<asio::any_io_executor>& reader_executors,
                                                      const db::connection_options& db_options,
                                                      const service_limits& limits,
                                                      asio::any_io_executor timer_executor) {
  auto pinned =
      pinned_readers::open(reader_executors, db_options, limits.read_transactions, limits.transaction_timeout);
  if (!pinned) return pinned.error();
  return std::shared_ptr<service>(
      new service(std::move(writer), readers, std::move(*pinned), limits, std::move(timer_executor)));
}

service::service(std::shared_ptr<writer_actor> writer, reader_pool& readers, std::unique_ptr<pinned_readers> pinned,
                 const service_limits& limits, asio::any_io_executor timer_executor)
    : writer_(std::move(writer)),
      readers_(readers),
      pinned_(std::move(pinned)),
      limits_(limits),
      registry_(limits.max_streams),
      timer_strand_(asio::make_strand(timer_executor)),
      timer_(timer_strand_) {}

void service::pipeline(std::optional<stream_ref> baton, bool read_only, std::vector<ph::decoded_request> requests,
                       asio::any_io_executor reply_to, std::size_t home, done_handler done) {
  auto refuse = [&](proto::api_error e) {
    asio::post(reply_to, [done = std::move(done), e = std::move(e)] { done(pipeline_outcome{e, {}, {}}); });
  };
  auto taken = stream_for_pipeline(registry_, baton, read_only, requests, next_id_.fetch_add(1));
  if (!taken) return refuse(taken.error());
  auto [s, registered] = std::move(*taken);
  std::make_shared<pipeline_run>(shared_from_this(), std::move(s), registered, std::move(requests), std::move(reply_to),
                                 home, std::move(done))
      ->next();
}

void service::end_transaction(const std::shared_ptr<stream>& s, asio::any_io_executor reply_to,
                              std::function<void()> done) {
  if (s->transaction == stream::txn::write) {
    return writer_->run_exclusive(
        s->id,
        [](db::connection& conn, lease_state state) {
          if (state == lease_state::held && !sqlite3_get_autocommit(conn.handle())) (void)conn.exec("ROLLBACK");
        },
        std::move(reply_to),
        [s, done = std::move(done)](lease_reply) {
          s->transaction = stream::txn::none;
          done();
        });
  }
  if (s->pinned) {
    return pinned_->run(
        *s->pinned,
        [](db::connection& conn) {
          if (!sqlite3_get_autocommit(conn.handle())) (void)conn.exec("ROLLBACK");
        },
        std::move(reply_to),
        [self = shared_from_this(), s, done = std::move(done)](bool) {
          self->pinned_->release(*s->pinned);
          s->pinned.reset();
          s->transaction = stream::txn::none;
          done();
        });
  }
  done();
}

void service::start() {
  asio::post(timer_strand_, [self = shared_from_this()] {
    MONOLITE_ASSERT_ON_STRAND(self->timer_strand_);
    if (self->stopped_) return;
    self->timer_.expires_after(self->limits_.idle_expiry / 4);
    self->timer_.async_wait([weak = self->weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->sweep();
    });
  });
}

void service::stop() {
  asio::post(timer_strand_, [self = shared_from_this()] {
    MONOLITE_ASSERT_ON_STRAND(self->timer_strand_);
    self->stopped_ = true;
    self->timer_.cancel();
  });
  pinned_->stop();
}

// Streams idle past the expiry are forgotten (their batons now answer STREAM_EXPIRED) and what
// they held open is rolled back.
void service::sweep() {
  MONOLITE_ASSERT_ON_STRAND(timer_strand_);  // the expiry timer's handler
  for (auto& s : registry_.take_idle(clock::now() - limits_.idle_expiry))
    end_transaction(s, timer_strand_, [] {});
  start();
}

}  // namespace monolite::actors::hrana
