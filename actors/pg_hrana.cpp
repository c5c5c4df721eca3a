#include "actors/pg_hrana.hpp"

#include <boost/asio/post.hpp>

#include "common/strand_check.hpp"
#include "db/sql_text.hpp"
#include "proto/hrana_encode.hpp"

namespace monolite::actors {
namespace asio = boost::asio;
namespace ph = proto::hrana;
using hrana::clock;
using statement_outcome = boost::system::result<proto::statement_result, ph::error>;

namespace {

bool opens_transaction(const std::string& keyword) { return keyword == "BEGIN" || keyword == "START"; }

// A read token's stream runs every statement read-only: outside a transaction inside BEGIN READ
// ONLY … COMMIT, and a BEGIN of its own becomes BEGIN READ ONLY. SET and RESET could turn that off.
std::optional<ph::error> refused_on_read_stream(const std::string& keyword) {
  if (keyword == "SET" || keyword == "RESET")
    return ph::error{"this token's role is read: SET and RESET are refused", "SQLITE_READONLY"};
  return std::nullopt;
}

// libSQL clients send SQLite's BEGIN forms (client.batch and client.transaction: BEGIN DEFERRED,
// BEGIN IMMEDIATE, BEGIN TRANSACTION READONLY); PostgreSQL knows none but the plain one.
const char* as_postgres_begin(const std::string& sql) {
  const auto tc = db::classify_transaction(sql);
  if (tc == db::transaction_control::begin_readonly) return "BEGIN READ ONLY";
  return db::is_begin(tc) ? "BEGIN" : nullptr;
}

}  // namespace

// One pipeline of requests on one stream, each statement in its own round trip, coming back to
// `reply_to_` between them.
class pg_pipeline_run : public std::enable_shared_from_this<pg_pipeline_run> {
 public:
  pg_pipeline_run(std::shared_ptr<pg_hrana> svc, std::shared_ptr<pg_stream> s, bool registered,
                  std::vector<ph::decoded_request> requests, asio::any_io_executor reply_to,
                  pg_hrana::done_handler done)
      : svc_(std::move(svc)),
        stream_(std::move(s)),
        registered_(registered),
        requests_(std::move(requests)),
        reply_to_(std::move(reply_to)),
        done_(std::move(done)) {}

  // A loop rather than recursion: requests that complete at once (store_sql...) may be many.
  void next() {
    in_loop_ = true;
    while (index_ < requests_.size()) {
      completed_ = false;
      start(requests_[index_]);
      if (!completed_) {
        in_loop_ = false;
        return;
      }
    }
    in_loop_ = false;
    finish();
  }

 private:
  struct batch {
    std::vector<hrana::step> steps;
    std::vector<ph::step_outcome> outcomes;
    std::size_t next = 0;
    bool stop_on_error = false;
  };

  void complete(ph::stream_result r) {
    results_.push_back(std::move(r));
    ++index_;
    completed_ = true;
    if (!in_loop_) next();
  }

  void start(const ph::decoded_request& decoded);
  void finish();
  void run_sequence(const ph::stream_request& request);
  void run_batch(ph::request_kind kind, std::vector<hrana::step> steps, bool stop_on_error);
  void step_batch(std::shared_ptr<batch> b, std::function<void()> then);
  void run_statement(const hrana::step& s, std::function<void(statement_outcome)> then);
  void on_connection(std::function<void(pg_lease&)> work, std::function<void(proto::api_error)> failed);
  void after_exec(std::shared_ptr<pg_lease> lease, bool wrapped);
  std::pair<pg::query_group, std::size_t> group_for(pg::query q, const std::string& keyword) const;

  std::shared_ptr<pg_hrana> svc_;
  std::shared_ptr<pg_stream> stream_;
  bool registered_;
  std::vector<ph::decoded_request> requests_;
  std::vector<ph::stream_result> results_;
  std::size_t index_ = 0;
  bool in_loop_ = false;
  bool completed_ = false;
  asio::any_io_executor reply_to_;
  pg_hrana::done_handler done_;
};

void pg_pipeline_run::start(const ph::decoded_request& decoded) {
  if (!decoded) {
    ph::stream_result r;
    r.failure = decoded.error();
    return complete(std::move(r));
  }
  const auto& request = *decoded;
  auto r = hrana::of_kind(request.kind);
  if (stream_->closed) {
    r.failure = ph::error{"the stream was closed by an earlier request of this pipeline", "STREAM_CLOSED"};
    return complete(std::move(r));
  }
  const auto& sqls = stream_->sqls;
  switch (request.kind) {
    case ph::request_kind::execute:
      return run_batch(request.kind, {hrana::make_step(request.statement, std::nullopt, sqls)}, false);
    case ph::request_kind::batch: {
      std::vector<hrana::step> steps;
      for (const auto& s : request.steps.steps)
        steps.push_back(hrana::make_step(s.statement, s.cond, sqls));
      return run_batch(request.kind, std::move(steps), false);
    }
    case ph::request_kind::sequence: return run_sequence(request);
    case ph::request_kind::describe:
      r.failure = ph::error{"describe is not served on the PostgreSQL engine", "NOT_SUPPORTED"};
      return complete(std::move(r));
    case ph::request_kind::store_sql:
      r.failure =
          hrana::store_sql_in(stream_->sqls, request, svc_->limits_.max_stored_sql, svc_->limits_.max_stored_sql_bytes);
      return complete(std::move(r));
    case ph::request_kind::close_sql: stream_->sqls.erase(*request.sql_id); return complete(std::move(r));
    case ph::request_kind::get_autocommit: r.is_autocommit = !stream_->held; return complete(std::move(r));
    case ph::request_kind::close:
      stream_->held.reset();  // the pool rolls back what it held open
      stream_->closed = true;
      return complete(std::move(r));
  }
}

void pg_pipeline_run::finish() {
  hrana::pipeline_outcome out;
  out.results = std::move(results_);
  if (!registered_) stream_->closed = true;  // only a pipeline ending in `close` runs unregistered
  if (stream_->closed) {
    stream_->held.reset();
    if (registered_) svc_->registry_.remove(stream_->id);
  } else {
    out.next = hrana::stream_ref{stream_->id, svc_->registry_.give_back(*stream_)};
    // After stop() forgot the idle streams, no sweep comes: this one's connection must go back now
    // (the pool's close waits for it). Checked after give_back, so stop() or this sees the stream.
    if (svc_->stopping_.load()) (void)svc_->registry_.take_idle(clock::time_point::max());
  }
  auto done = std::move(done_);
  done(std::move(out));
}

// The statements of the SQL text one after the other, each in its own round trip, until one fails.
void pg_pipeline_run::run_sequence(const ph::stream_request& request) {
  auto sql = hrana::resolve_sql(request.sql, request.sql_id, stream_->sqls);
  if (!sql) {
    auto r = hrana::of_kind(request.kind);
    r.failure = sql.error();
    return complete(std::move(r));
  }
  std::vector<hrana::step> steps;
  for (auto& text : db::split_statements(*sql))
    steps.push_back({std::nullopt, {std::move(text), {}, {}}, false, {}});
  run_batch(request.kind, std::move(steps), true);
}

// An execute is a batch of one, a sequence one that stops at its first error.
void pg_pipeline_run::run_batch(ph::request_kind kind, std::vector<hrana::step> steps, bool stop_on_error) {
  auto b = std::make_shared<batch>();
  b->steps = std::move(steps);
  b->outcomes.resize(b->steps.size());
  b->stop_on_error = stop_on_error;
  step_batch(b, [self = shared_from_this(), b, kind] {
    auto r = hrana::of_kind(kind);
    if (kind == ph::request_kind::batch) {
      r.steps = std::move(b->outcomes);
    } else {
      for (auto& o : b->outcomes) {
        if (o.status == ph::step_outcome::state::failed && !r.failure) r.failure = o.failure;
        if (o.status == ph::step_outcome::state::ok && kind == ph::request_kind::execute) r.stmt = std::move(o.result);
      }
    }
    self->complete(std::move(r));
  });
}

void pg_pipeline_run::step_batch(std::shared_ptr<batch> b, std::function<void()> then) {
  for (; b->next < b->steps.size(); ++b->next) {
    const auto& s = b->steps[b->next];
    auto& outcome = b->outcomes[b->next];
    if (b->stop_on_error && b->next > 0 && b->outcomes[b->next - 1].status == ph::step_outcome::state::failed) break;
    if (s.cond && !hrana::condition_holds(*s.cond, b->outcomes, !stream_->held)) continue;  // skipped
    if (s.invalid) {
      outcome.status = ph::step_outcome::state::failed;
      outcome.failure = *s.invalid;
      continue;
    }
    return run_statement(s, [self = shared_from_this(), b, then = std::move(then)](statement_outcome r) mutable {
      auto& o = b->outcomes[b->next++];
      o.status = r ? ph::step_outcome::state::ok : ph::step_outcome::state::failed;
      if (r) o.result = std::move(*r);
      if (!r) o.failure = r.error();
      self->step_batch(b, std::move(then));
    });
  }
  then();
}

void pg_pipeline_run::run_statement(const hrana::step& s, std::function<void(statement_outcome)> then) {
  auto fail_later = [this, &then](ph::error e) {
    asio::post(reply_to_, [then = std::move(then), e = std::move(e)] { then(statement_outcome{e}); });
  };
  if (svc_->interrupted_.load(std::memory_order_acquire))
    return fail_later({"the server is shutting down; the statement did not run", "SQLITE_INTERRUPT"});
  if (std::exchange(stream_->timed_out, false)) return fail_later(hrana::transaction_timeout_error());
  const auto keyword = db::first_keyword(s.stmt.sql);
  if (stream_->settings.read_only) {
    if (auto refused = refused_on_read_stream(keyword)) return fail_later(*refused);
  }
  auto q = to_pg_query(s.stmt, svc_->sql_limits_, pg_statement_origin::stream);
  if (!q) return fail_later(hrana::statement_error(q.error(), s.stmt.sql));
  if (auto begin = as_postgres_begin(s.stmt.sql)) q->sql = begin;
  auto built = group_for(std::move(*q), keyword);
  const std::size_t at = built.second;
  const bool want_rows = s.want_rows;
  auto self = shared_from_this();
  on_connection(
      [self, group = std::move(built.first), at, want_rows, then](pg_lease& lease) mutable {
        auto shared = self->stream_->held ? self->stream_->held : std::make_shared<pg_lease>(std::move(lease));
        shared->connection().exec(std::move(group), [self, shared, at, want_rows, then](pg::exec_result ran) mutable {
          asio::post(self->reply_to_, [self, shared, at, want_rows, then, ran = std::move(ran)]() mutable {
            self->after_exec(shared, at == 1);
            if (!ran)
              return then(
                  statement_outcome{ph::from_api_error(to_api_error(ran.error().error, self->svc_->sql_limits_))});
            auto result = to_statement_result(std::move((*ran)[at]), want_rows);
            if (!result) return then(statement_outcome{ph::from_api_error(result.error())});
            then(statement_outcome{std::move(*result)});
          });
        });
      },
      [then](proto::api_error e) { then(statement_outcome{ph::from_api_error(e)}); });
}

// The group a statement runs as, and where its own result is in it: on a read stream outside a
// transaction, inside a BEGIN READ ONLY … COMMIT of ours (and its own BEGIN is a read-only one).
std::pair<pg::query_group, std::size_t> pg_pipeline_run::group_for(pg::query q, const std::string& keyword) const {
  std::vector<pg::query> queries;
  std::size_t at = 0;
  if (stream_->settings.read_only) {
    if (opens_transaction(keyword)) q.sql = "BEGIN READ ONLY";
    if (!stream_->held && !opens_transaction(keyword)) queries.push_back(plain_query("BEGIN READ ONLY")), at = 1;
  }
  queries.push_back(std::move(q));
  if (at == 1) queries.push_back(plain_query("COMMIT"));
  return {capped_group(std::move(queries), svc_->sql_limits_), at};
}

// The stream's own connection while it holds one, else one from the pool; both on `reply_to_`.
void pg_pipeline_run::on_connection(std::function<void(pg_lease&)> work, std::function<void(proto::api_error)> failed) {
  if (stream_->held) {
    return asio::post(reply_to_, [held = stream_->held, work = std::move(work)] { work(*held); });
  }
  svc_->pool_->acquire(reply_to_, [self = shared_from_this(), work = std::move(work),
                                   failed = std::move(failed)](pg::result<pg_lease> leased) {
    if (!leased) return failed(to_api_error(leased.error(), self->svc_->sql_limits_));
    work(*leased);
  });
}

// The stream keeps the connection while a transaction is open on it, and gives it back after.
// `wrapped`: the statement ran in a BEGIN READ ONLY … COMMIT of our own (a read stream outside a
// transaction); if it failed, that transaction is left aborted, and it is not the client's to keep.
void pg_pipeline_run::after_exec(std::shared_ptr<pg_lease> lease, bool wrapped) {
  const auto state = lease->connection().transaction_state();
  const bool open = !wrapped && !lease->connection().broken() &&
                    (state == pg::transaction_status::in_transaction || state == pg::transaction_status::in_error);
  if (open && !stream_->held) {
    stream_->held = std::move(lease);
    stream_->held_since = clock::now();
  } else if (!open) {
    stream_->held.reset();
  }
}

std::shared_ptr<pg_hrana> pg_hrana::open(std::shared_ptr<pg_pool> pool, const pg_sql_limits& sql_limits,
                                         const pg_hrana_limits& limits, asio::any_io_executor timer_executor) {
  return std::shared_ptr<pg_hrana>(new pg_hrana(std::move(pool), sql_limits, limits, std::move(timer_executor)));
}

pg_hrana::pg_hrana(std::shared_ptr<pg_pool> pool, const pg_sql_limits& sql_limits, const pg_hrana_limits& limits,
                   asio::any_io_executor timer_executor)
    : pool_(std::move(pool)),
      sql_limits_(sql_limits),
      limits_(limits),
      registry_(limits.max_streams),
      timer_strand_(asio::make_strand(timer_executor)),
      timer_(timer_strand_) {}

void pg_hrana::pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                        std::vector<ph::decoded_request> requests, asio::any_io_executor reply_to, done_handler done) {
  auto taken = hrana::stream_for_pipeline(registry_, baton, read_only, requests, next_id_.fetch_add(1));
  if (!taken) {
    return asio::post(reply_to, [done = std::move(done), e = taken.error()] {
      done(hrana::pipeline_outcome{e, {}, {}});
    });
  }
  auto [s, registered] = std::move(*taken);
  std::make_shared<pg_pipeline_run>(shared_from_this(), std::move(s), registered, std::move(requests),
                                    std::move(reply_to), std::move(done))
      ->next();
}

void pg_hrana::start() {
  asio::post(timer_strand_, [self = shared_from_this()] { self->arm(); });
}

void pg_hrana::arm() {
  MONOLITE_ASSERT_ON_STRAND(timer_strand_);
  if (stopped_) return;
  timer_.expires_after(limits_.idle_expiry / 4);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->sweep();
  });
}

// Also forgets every idle stream: the connections they hold go back to the pool (rolled back), which
// can then close.
void pg_hrana::stop() {
  stopping_.store(true);
  (void)registry_.take_idle(clock::time_point::max());
  asio::post(timer_strand_, [self = shared_from_this()] {
    MONOLITE_ASSERT_ON_STRAND(self->timer_strand_);
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

// Idle streams past the expiry are forgotten, and idle ones whose transaction outlived the
// timeout give their connection back (the pool rolls it back).
void pg_hrana::sweep() {
  MONOLITE_ASSERT_ON_STRAND(timer_strand_);  // the timer's handler
  (void)registry_.take_idle(clock::now() - limits_.idle_expiry);
  const auto too_old = clock::now() - limits_.transaction_timeout;
  for (auto& s :
       registry_.take_where([too_old](const pg_stream& s) { return s.held && s.held_since < too_old; }, false)) {
    s->held.reset();
    s->timed_out = true;
    registry_.give_back(*s);
  }
  arm();
}

}  // namespace monolite::actors
