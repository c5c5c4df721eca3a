// engine — the one interface the routes run SQL through, whichever database serves it: the SQLite
//   actors (sqlite_engine.hpp) or a PostgreSQL connection pool (pg_engine.hpp). serve() picks one
//   from --db, once; no route asks which.
// Executor: each implementation's own; no call blocks or runs SQL on the caller's thread.
// Replies: every completion is posted to the `reply_to` given, exactly once.
// Full mailbox: answered at once with 503 OVERLOADED (each implementation bounds its queue).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/sql_outcomes.hpp"
#include "proto/hrana.hpp"
#include "proto/sql_request.hpp"

namespace monolite::actors {

class engine {
 public:
  using read_handler = std::function<void(read_outcome)>;
  using write_handler = std::function<void(write_outcome)>;
  using pipeline_handler = std::function<void(hrana::pipeline_outcome)>;

  virtual ~engine() = default;

  // /sql/query: one statement in a read-only transaction; one that writes is 400 READONLY.
  // `home`: the caller's preferred worker (its thread's reader, say), taken modulo their number.
  virtual void query(proto::statement statement, boost::asio::any_io_executor reply_to, std::size_t home,
                     read_handler reply) = 0;
  // /sql/execute and /sql/batch: all statements of the request commit together, or none does.
  virtual void write(proto::write_request request, boost::asio::any_io_executor reply_to, write_handler reply) = 0;
  // Hrana: runs `requests` in order on the baton's stream (a new stream without a baton).
  // `read_only`: the caller's token may only read. `reply_to` must be serial (a strand).
  virtual void pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                        std::vector<proto::hrana::decoded_request> requests, boost::asio::any_io_executor reply_to,
                        std::size_t home, pipeline_handler done) = 0;

  // Thread-safe: false while the engine cannot serve (no PostgreSQL connection can be made), so
  // that /readyz says 503; the reason for logs and the answer.
  virtual bool available() const = 0;
  virtual std::string unavailable_reason() const { return {}; }
  // Hrana streams open now (a gauge).
  virtual std::size_t open_streams() const = 0;
  // Thread-safe: the engine's own Prometheus series (HELP, TYPE and samples), appended to `out`.
  virtual void append_metrics(std::string& /*out*/) const {}
  // Thread-safe, at shutdown: running statements and later ones fail with 504 instead of running.
  virtual void interrupt() = 0;
  // Thread-safe, once: stops the engine's timers, answers what is queued, closes its connections,
  // then posts `done` to `done_on`.
  virtual void close(boost::asio::any_io_executor done_on, std::function<void()> done) = 0;
};

}  // namespace monolite::actors
