// Running Hrana batch steps on one connection, synchronously, on whichever strand owns it: batch
// conditions, statements with decltypes, and the statements a stream runs itself (BEGIN, COMMIT,
// ROLLBACK, PRAGMA foreign_keys). A step that must run elsewhere — a write met on a shared
// reader, BEGIN IMMEDIATE, BEGIN TRANSACTION READONLY — stops the run and names the place, and the
// stream continues it there (hrana_pipeline.cpp).
#pragma once
#include <optional>
#include <vector>

#include "actors/hrana_requests.hpp"
#include "actors/writer_actor.hpp"
#include "db/connection.hpp"
#include "proto/hrana_decode.hpp"
#include "proto/hrana_encode.hpp"

namespace monolite::actors::hrana {

// shared_reader: any reader of the pool, autocommit only; pinned: the stream's own read-only
// connection while its read transaction lasts; writer: the write connection (leased).
enum class place { shared_reader, pinned, writer };

// What steps may change on their stream.
struct stream_settings {
  bool read_only = false;            // the token's role is read: never the writer
  std::optional<bool> foreign_keys;  // from PRAGMA foreign_keys, applied on the writer
};

// A batch (an execute is a batch of one, a sequence one with stop_on_error) on its way.
struct batch_run {
  std::vector<step> steps;
  std::vector<ph::step_outcome> outcomes;
  std::size_t next = 0;
  bool stop_on_error = false;
  std::optional<ph::error> failure;  // the request failed as a whole (place refused, timeout)
  std::optional<place> move_to;      // set when steps[next] must run elsewhere
  bool transaction_open = false;     // after the last run_steps, on its connection
  std::size_t rounds = 0;            // places visited: a bound against moving in circles
};

// Runs steps from `run.next` until the end, the first failure of a stop_on_error run, or a step
// that belongs elsewhere (`run.move_to`).
void run_steps(db::connection& conn, place where, batch_run& run, stream_settings& settings);

// Where steps[run.next] starts when the stream holds no transaction.
place first_place(const batch_run& run, const stream_settings& settings);

// The description of one statement (transaction statements are described without SQLite).
boost::system::result<proto::statement_description, ph::error> describe(db::connection& conn, const std::string& sql);

ph::error transaction_timeout_error();

}  // namespace monolite::actors::hrana
