// checkpointer — owns a second read-write connection used only for PASSIVE checkpoints, so copying
// WAL frames into the database file (and its fsync) never delays a commit.
// Executor: its own strand (on a thread of its own). It runs only when the writer asks: the writer
// decides when frames may be checkpointed (later: only once replication has shipped them).
// Replies: posts the outcome to the executor the writer named. Mailbox: the writer keeps at most
// one request in flight, so there is nothing to bound.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>

#include "db/connection.hpp"

namespace monolite::actors {

struct checkpoint_outcome {
  bool ok = false;
  int wal_frames = 0;    // frames in the WAL when it ran
  int checkpointed = 0;  // of those, frames now copied into the database file
};

class checkpointer : public std::enable_shared_from_this<checkpointer> {
 public:
  static proto::result<std::shared_ptr<checkpointer>> open(boost::asio::any_io_executor executor,
                                                           const db::connection_options& options);

  // Thread-safe.
  void passive(boost::asio::any_io_executor reply_to, std::function<void(checkpoint_outcome)> done);
  // Thread-safe; closes the connection after any checkpoint already asked for, then posts `done`.
  void close(boost::asio::any_io_executor reply_to, std::function<void()> done);

 private:
  checkpointer(boost::asio::any_io_executor executor, db::connection conn);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  db::connection conn_;
};

}  // namespace monolite::actors
