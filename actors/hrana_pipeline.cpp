#include "actors/hrana_pipeline.hpp"

#include <sqlite3.h>

#include "db/sql_text.hpp"

namespace monolite::actors::hrana {
namespace asio = boost::asio;

pipeline_run::pipeline_run(std::shared_ptr<service> svc, std::shared_ptr<stream> s, bool registered,
                           std::vector<ph::decoded_request> requests, asio::any_io_executor reply_to, std::size_t home,
                           service::done_handler done)
    : svc_(std::move(svc)),
      stream_(std::move(s)),
      registered_(registered),
      requests_(std::move(requests)),
      reply_to_(std::move(reply_to)),
      home_(home),
      done_(std::move(done)) {
  results_.reserve(requests_.size());
}

// A loop rather than recursion: requests that complete at once (store_sql...) may be many.
void pipeline_run::next() {
  in_loop_ = true;
  while (index_ < requests_.size()) {
    completed_ = false;
    start(requests_[index_]);
    if (!completed_) {  // gone to an actor; complete() calls next() again
      in_loop_ = false;
      return;
    }
  }
  in_loop_ = false;
  finish();
}

void pipeline_run::complete(ph::stream_result r) {
  results_.push_back(std::move(r));
  ++index_;
  completed_ = true;
  if (!in_loop_) next();
}

void pipeline_run::start(const ph::decoded_request& decoded) {
  if (!decoded) {
    ph::stream_result r;
    r.failure = decoded.error();
    return complete(std::move(r));
  }
  const auto& request = *decoded;
  auto r = of_kind(request.kind);
  if (stream_->closed) {
    r.failure = ph::error{"the stream was closed by an earlier request of this pipeline", "STREAM_CLOSED"};
    return complete(std::move(r));
  }
  switch (request.kind) {
    case ph::request_kind::execute: return run_execute(request.statement);
    case ph::request_kind::batch: return run_batch_request(request.steps);
    case ph::request_kind::sequence: return run_sequence(request);
    case ph::request_kind::describe: return run_describe(request);
    case ph::request_kind::store_sql: return complete(store_sql(request));
    case ph::request_kind::close_sql: stream_->sqls.erase(*request.sql_id); return complete(std::move(r));
    case ph::request_kind::get_autocommit:
      r.is_autocommit = stream_->transaction == stream::txn::none;
      return complete(std::move(r));
    case ph::request_kind::close: return close();
  }
}

void pipeline_run::finish() {
  pipeline_outcome out;
  out.results = std::move(results_);
  if (!stream_->closed && !registered_) {
    // Only a pipeline ending in `close` runs unregistered, and close always closes.
    stream_->closed = true;
    svc_->end_transaction(stream_, reply_to_, [] {});
  }
  if (stream_->closed) {
    if (registered_) svc_->registry_.remove(stream_->id);
  } else {
    out.next = stream_ref{stream_->id, svc_->registry_.give_back(*stream_)};
  }
  auto done = std::move(done_);
  done(std::move(out));
}

ph::stream_result pipeline_run::store_sql(const ph::stream_request& request) {
  auto r = of_kind(request.kind);
  r.failure = store_sql_in(stream_->sqls, request, svc_->limits_.max_stored_sql, svc_->limits_.max_stored_sql_bytes);
  return r;
}

void pipeline_run::close() {
  svc_->end_transaction(stream_, reply_to_, [self = shared_from_this()] {
    self->stream_->closed = true;
    self->complete(of_kind(ph::request_kind::close));
  });
}

void pipeline_run::run_execute(const ph::stmt& statement) {
  auto run = std::make_shared<batch_run>();
  run->steps.push_back(make_step(statement, std::nullopt, stream_->sqls));
  run->outcomes.resize(1);
  run_batch(run, [self = shared_from_this(), run] {
    auto r = of_kind(ph::request_kind::execute);
    auto& outcome = run->outcomes[0];
    if (run->failure)
      r.failure = run->failure;
    else if (outcome.status == ph::step_outcome::state::failed)
      r.failure = outcome.failure;
    else
      r.stmt = std::move(outcome.result);
    self->complete(std::move(r));
  });
}

void pipeline_run::run_batch_request(const ph::batch& b) {
  auto run = std::make_shared<batch_run>();
  for (const auto& s : b.steps)
    run->steps.push_back(make_step(s.statement, s.cond, stream_->sqls));
  run->outcomes.resize(run->steps.size());
  run_batch(run, [self = shared_from_this(), run] {
    auto r = of_kind(ph::request_kind::batch);
    if (run->failure)
      r.failure = run->failure;
    else
      r.steps = std::move(run->outcomes);
    self->complete(std::move(r));
  });
}

std::optional<std::string> pipeline_run::sql_or_fail(const ph::stream_request& request) {
  auto sql = resolve_sql(request.sql, request.sql_id, stream_->sqls);
  if (sql) return std::move(*sql);
  auto r = of_kind(request.kind);
  r.failure = sql.error();
  complete(std::move(r));
  return std::nullopt;
}

void pipeline_run::run_sequence(const ph::stream_request& request) {
  auto sql = sql_or_fail(request);
  if (!sql) return;
  auto r = of_kind(request.kind);
  auto run = std::make_shared<batch_run>();
  run->stop_on_error = true;
  for (auto& text : db::split_statements(*sql))
    run->steps.push_back({std::nullopt, {std::move(text), {}, {}}, false, {}});
  run->outcomes.resize(run->steps.size());
  run_batch(run, [self = shared_from_this(), run, r]() mutable {
    r.failure = run->failure;
    for (const auto& o : run->outcomes)
      if (!r.failure && o.status == ph::step_outcome::state::failed) r.failure = o.failure;
    self->complete(std::move(r));
  });
}

void pipeline_run::run_describe(const ph::stream_request& request) {
  auto sql = sql_or_fail(request);
  if (!sql) return;
  auto r = of_kind(request.kind);
  auto described =
      std::make_shared<boost::system::result<proto::statement_description, ph::error>>(proto::statement_description{});
  const auto where = stream_->transaction == stream::txn::write  ? place::writer
                     : stream_->transaction == stream::txn::read ? place::pinned
                                                                 : place::shared_reader;
  on_place(
      where,
      [described, sql = *sql](db::connection& conn, place, lease_state state) {
        if (state == lease_state::expired)
          *described = transaction_timeout_error();
        else
          *described = describe(conn, sql);
      },
      [self = shared_from_this(), described, r](proto::result<void> ran) mutable {
        if (!ran)
          r.failure = ph::from_api_error(ran.error());
        else if (!*described)
          r.failure = described->error();
        else
          r.description = std::move(**described);
        self->complete(std::move(r));
      });
}

// Where a stream's work runs: the writer under the stream's lease, a shared reader, or the
// stream's pinned reader; and a batch's walk between them.

place pipeline_run::place_for(const batch_run& run) const {
  switch (stream_->transaction) {
    case stream::txn::write: return place::writer;
    case stream::txn::read: return place::pinned;
    case stream::txn::none: break;
  }
  return run.move_to.value_or(first_place(run, stream_->settings));
}

bool pipeline_run::read_transaction_too_old() const {
  return stream_->transaction == stream::txn::read &&
         clock::now() - stream_->read_since > svc_->limits_.transaction_timeout;
}

// Runs steps where they belong until all ran; each hop comes back here through `reply_to_`.
void pipeline_run::run_batch(std::shared_ptr<batch_run> run, std::function<void()> then) {
  if (run->failure || run->next >= run->steps.size()) return then();
  if (++run->rounds > 2 * run->steps.size() + 4) {
    run->failure = ph::error{"the batch could not be placed on a connection", "INTERNAL"};
    return then();
  }
  if (read_transaction_too_old()) {
    return svc_->end_transaction(stream_, reply_to_, [run, then = std::move(then)] {
      run->failure = transaction_timeout_error();
      then();
    });
  }
  auto* settings = &stream_->settings;
  on_place(
      place_for(*run),
      [run, settings](db::connection& conn, place where, lease_state state) {
        if (state == lease_state::expired)
          run->failure = transaction_timeout_error();
        else
          run_steps(conn, where, *run, *settings);
      },
      [self = shared_from_this(), run, then = std::move(then)](proto::result<void> ran) mutable {
        if (!ran) run->failure = ph::from_api_error(ran.error());
        self->run_batch(run, std::move(then));
      });
}

void pipeline_run::on_place(place where, work_fn work, then_fn then) {
  switch (where) {
    case place::writer:
      return svc_->writer_->run_exclusive(
          stream_->id,
          [work = std::move(work)](db::connection& conn, lease_state state) { work(conn, place::writer, state); },
          reply_to_,
          [self = shared_from_this(), then = std::move(then)](lease_reply reply) {
            if (reply.ran) self->stream_->transaction = reply.transaction_open ? stream::txn::write : stream::txn::none;
            then(std::move(reply.ran));
          });
    case place::shared_reader:
      return svc_->readers_.run(
          home_,
          [work = std::move(work)](db::connection& conn) { work(conn, place::shared_reader, lease_state::none); },
          reply_to_, std::move(then));
    case place::pinned: return on_pinned(std::move(work), std::move(then));
  }
}

// The stream keeps its pinned reader while the read transaction is open and gives it back after.
void pipeline_run::on_pinned(work_fn work, then_fn then) {
  if (!stream_->pinned) {
    auto slot = svc_->pinned_->acquire();
    if (!slot)
      return then(proto::api_error{
          503, "TRANSACTION_BUSY",
          "all " + std::to_string(svc_->pinned_->size()) + " read transactions are in use; retry shortly", 1});
    stream_->pinned = *slot;
    stream_->read_since = clock::now();
  }
  auto open = std::make_shared<bool>(false);
  svc_->pinned_->run(
      *stream_->pinned,
      [work = std::move(work), open](db::connection& conn) {
        work(conn, place::pinned, lease_state::none);
        *open = !sqlite3_get_autocommit(conn.handle());
      },
      reply_to_,
      [self = shared_from_this(), open, then = std::move(then)](bool ran) {
        auto& s = *self->stream_;
        if (*open) {
          s.transaction = stream::txn::read;
        } else {
          self->svc_->pinned_->release(*s.pinned);
          s.pinned.reset();
          s.transaction = stream::txn::none;
        }
        // The loan's timer rolled the transaction back before this work could run.
        if (!ran) return then(proto::api_error{400, "TRANSACTION_TIMEOUT", transaction_timeout_error().message});
        then({});
      });
}

}  // namespace monolite::actors::hrana
