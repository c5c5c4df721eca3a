#include "actors/checkpointer.hpp"

#include <sqlite3.h>

#include <boost/asio/post.hpp>

namespace monolite::actors {
namespace asio = boost::asio;

proto::result<std::shared_ptr<checkpointer>> checkpointer::open(asio::any_io_executor executor,
                                                                const db::connection_options& options) {
  auto conn = db::connection::open(options);
  if (!conn) return conn.error();
  return std::shared_ptr<checkpointer>(new checkpointer(executor, std::move(*conn)));
}

checkpointer::checkpointer(asio::any_io_executor executor, db::connection conn)
    : strand_(asio::make_strand(executor)), conn_(std::move(conn)) {}

void checkpointer::passive(asio::any_io_executor reply_to, std::function<void(checkpoint_outcome)> done) {
  asio::post(strand_, [self = shared_from_this(), reply_to, done = std::move(done)]() mutable {
    checkpoint_outcome outcome;
    if (self->conn_.handle()) {
      outcome.ok = sqlite3_wal_checkpoint_v2(self->conn_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &outcome.wal_frames, &outcome.checkpointed) == SQLITE_OK;
    }
    asio::post(reply_to, [done = std::move(done), outcome] { done(outcome); });
  });
}

void checkpointer::close(asio::any_io_executor reply_to, std::function<void()> done) {
  asio::post(strand_, [self = shared_from_this(), reply_to, done = std::move(done)] {
    self->conn_.close();
    asio::post(reply_to, done);
  });
}

}  // namespace monolite::actors
