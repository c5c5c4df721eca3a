#include "server/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdlib>
#include <filesystem>
#include <stop_token>
#include <thread>

#include "actors/pg_engine.hpp"
#include "actors/sqlite_engine.hpp"
#include "common/log.hpp"
#include "replica/boot_restore.hpp"
#include "server/access.hpp"
#include "server/follow_routes.hpp"
#include "server/guards.hpp"
#include "server/hrana_routes.hpp"
#include "server/http_session.hpp"
#include "server/io_pool.hpp"
#include "server/listener.hpp"
#include "server/proxy_routes.hpp"
#include "server/read_only_routes.hpp"
#include "server/replication_routes.hpp"
#include "server/server_context.hpp"
#include "server/sql_routes.hpp"
#include "server/statement_recording.hpp"
#include "server/system_routes.hpp"
#include "server/wal_log_routes.hpp"

namespace monolite::server {
namespace asio = boost::asio;

namespace {

// For logs: the file, or the PostgreSQL URL without its password.
std::string database_name(const server::settings& s) {
  if (s.postgres_url.empty()) return s.db_path;
  return actors::redacted_url(s.postgres_url);
}

db::connection_options connection_options_for(const server::settings& s) {
  db::connection_options o;
  o.path = s.db_path;
  o.synchronous = s.synchronous;
  o.cache_size = s.cache_size;
  o.busy_timeout_ms = s.busy_timeout_ms;
  o.statement_timeout = s.statement_timeout;
  o.max_sql_length = s.max_sql_length;
  o.max_params = s.max_params;
  o.max_result_rows = s.max_result_rows;
  o.max_result_bytes = s.max_result_bytes;
  // A value may be as large as a whole result or a whole request body, whichever is larger.
  o.max_value_bytes = std::max(s.max_result_bytes, s.max_body);
  return o;
}

proto::result<void> open_database(server_context& ctx, asio::any_io_executor writer_executor,
                                  const std::vector<asio::any_io_executor>& reader_executors) {
  std::error_code fs_ec;
  const auto folder = std::filesystem::path(ctx.settings.db_path).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder, fs_ec);
  if (fs_ec) return proto::internal_error("cannot create " + folder.string() + ": " + fs_ec.message());
  actors::writer_options writer_opts;
  writer_opts.mailbox_capacity = ctx.settings.writer_queue;
  writer_opts.transaction_timeout = ctx.settings.transaction_timeout;
  if (auto logged = open_replication_log(ctx, writer_executor); !logged) return logged;
  // The writer opens first: it creates the file and switches it to WAL before readers attach.
  auto writer = actors::writer_actor::open(writer_executor, connection_options_for(ctx.settings), writer_opts);
  if (!writer) return writer.error();
  ctx.writer = std::move(*writer);
  auto readers =
      actors::reader_pool::open(reader_executors, connection_options_for(ctx.settings), ctx.settings.writer_queue);
  if (!readers) return readers.error();
  ctx.readers = std::move(*readers);
  ctx.readers->set_long_read_threshold(ctx.settings.long_read_threshold);
  start_read_only(ctx);
  if (auto opened = open_hrana(ctx, connection_options_for(ctx.settings), writer_executor, reader_executors); !opened)
    return opened;
  ctx.engine = std::make_shared<actors::sqlite_engine>(ctx.writer, *ctx.readers, ctx.hrana);
  return {};
}

// --db postgres://…: a pool of non-blocking connections on the HTTP threads' executors (they never
// block on it). It connects in the background: /readyz is 503 until one connection is made.
proto::result<void> open_postgres(server_context& ctx, io_pool& pool) {
  const auto& s = ctx.settings;
  actors::pg_engine_options o;
  o.url = s.postgres_url;
  o.pool_size = s.pg_pool;
  o.queue_capacity = s.writer_queue;
  o.statement_timeout = s.statement_timeout;
  o.limits = {s.max_sql_length, s.max_params, s.max_result_rows, s.max_result_bytes};
  o.hrana.max_stored_sql_bytes = static_cast<std::size_t>(s.max_sql_length);
  o.hrana.transaction_timeout = s.transaction_timeout;
  std::vector<asio::any_io_executor> executors;
  for (std::size_t i = 0; i < pool.size(); ++i)
    executors.push_back(pool.context(i).get_executor());
  auto engine = actors::pg_engine::open(executors, o);
  if (!engine) return engine.error();
  ctx.engine = std::move(*engine);
  return {};
}

// Where the database stands. Touched only on pool.context(0) — one thread, an implicit strand —
// or before the pool runs; the starter thread reports by posting there.
struct startup_state {
  bool starting = false;          // a starter thread restores, then opens, the database
  bool database_open = false;     // the writer exists: shutting down must close it
  std::stop_source restore_stop;  // thread-safe: asks the starter's restore to stop between objects
};

// The grace period is over and the starter is still busy (a download in flight, say): remove the
// restore's temporary file and exit at once. --db is only ever the complete, checked file.
[[noreturn]] void abandon_startup(const server_context& ctx) {
  std::error_code ec;
  std::filesystem::remove(replica::restore_temp_path(ctx.settings.db_path), ec);
  log::error("startup did not stop within the grace period; exiting without it", {{"db", ctx.settings.db_path}});
  std::_Exit(1);
}

// Waits (polling every 20 ms) until every session has closed and the starter has reported, or the
// grace period is over, then lets the writer drain, checkpoint and close, and stops the io_context.
class shutdown_watch : public std::enable_shared_from_this<shutdown_watch> {
 public:
  shutdown_watch(server_context& ctx, const startup_state& state, io_pool& pool)
      : ctx_(ctx),
        state_(state),
        pool_(pool),
        timer_(pool.context(0)),
        deadline_(std::chrono::steady_clock::now() + ctx.settings.shutdown_grace) {}

  void poll() {
    const bool busy = ctx_.sessions.size() > 0 || state_.starting || verifying();
    if (busy && std::chrono::steady_clock::now() < deadline_) {
      timer_.expires_after(std::chrono::milliseconds(20));
      timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->poll(); });
      return;
    }
    if (state_.starting) abandon_startup(ctx_);
    if (!state_.database_open) return pool_.stop();  // the restore stopped (or failed): nothing is open
    if (ctx_.sessions.size() > 0) {
      log::warn("grace period over; interrupting running statements", {{"open", ctx_.sessions.size()}});
      ctx_.engine->interrupt();
    }
    if (ctx_.verifier) ctx_.verifier->join();  // it reads the live files: done before the writer closes
    if (ctx_.replication_log) ctx_.replication_log->stop_timers();  // the database pool must run dry
    ctx_.engine->close(pool_.context(0).get_executor(), [&pool = pool_] { pool.stop(); });
  }

 private:
  // The verifier was asked to stop (shut_down) and has not finished yet. Once the starter has
  // reported, ctx_.verifier is settled (it started only if the server became ready).
  bool verifying() const { return !state_.starting && ctx_.verifier && ctx_.verifier->running(); }

  server_context& ctx_;
  const startup_state& state_;
  io_pool& pool_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
};

// Stop accepting, let sessions answer what they hold, then let the writer drain and checkpoint.
void shut_down(server_context& ctx, startup_state& state, listener& lst, io_pool& pool) {
  log::info("shutting down", {{"grace_ms", ctx.settings.shutdown_grace.count()}});
  ctx.draining.store(true, std::memory_order_release);
  state.restore_stop.request_stop();
  if (!state.starting && ctx.verifier) ctx.verifier->request_stop();  // stops between objects
  lst.stop();
  if (ctx.guards) ctx.guards->stop();
  if (ctx.statement_saver) ctx.statement_saver->stop();
  ctx.sessions.for_each([](const std::shared_ptr<http_session>& s) { s->finish(); });
  std::make_shared<shutdown_watch>(ctx, state, pool)->poll();
}

// Waits for SIGHUP again and again, reloading --auth each time.
void reload_on_hangup(asio::signal_set& hangup, server_context& ctx) {
  hangup.async_wait([&hangup, &ctx](boost::system::error_code ec, int) {
    if (ec) return;
    reload_auth(ctx);
    reload_on_hangup(hangup, ctx);
  });
}

// 0, or the exit code for a bad --auth file.
int load_auth(server_context& ctx) {
  if (ctx.settings.auth_path.empty()) {
    if (ctx.settings.insecure_no_auth)
      log::warn("serving without authentication (--insecure-no-auth)", {{"listen", ctx.settings.listen_host}});
    return 0;
  }
  auto auth = load_auth_file(ctx.settings.auth_path);
  if (!auth) {
    log::error("bad auth file", {{"error", auth.error().message}});
    return 2;
  }
  ctx.auth.store(std::move(*auth));
  return 0;
}

// The writer always has a thread of its own (fsync, checkpoints); readers too with --db-executor
// pool, or one per HTTP thread with affine.
std::vector<asio::any_io_executor> reader_executors(const server::settings& s, io_pool& pool,
                                                    asio::thread_pool& db_pool) {
  std::vector<asio::any_io_executor> out;
  if (s.readers_on_io_threads) {
    for (std::size_t i = 0; i < pool.size(); ++i)
      out.push_back(pool.context(i).get_executor());
  } else {
    out.assign(s.readers, db_pool.get_executor());
  }
  return out;
}

// --follow: no writer, no replication; the readers open once the copy exists (at once on a restart).
proto::result<void> open_follower_database(server_context& ctx, io_pool& pool, asio::thread_pool& db_pool) {
  auto open_readers = [&ctx, executors = reader_executors(ctx.settings, pool, db_pool)]() -> proto::result<void> {
    auto readers =
        actors::reader_pool::open(executors, connection_options_for(ctx.settings), ctx.settings.writer_queue);
    if (!readers) return readers.error();
    ctx.readers = std::move(*readers);
    ctx.readers->set_long_read_threshold(ctx.settings.long_read_threshold);
    return {};
  };
  return open_follower(ctx, pool.context(0).get_executor(), std::move(open_readers));
}

// Restore (when asked and the file is missing), open the actors, start replication. 0 or an exit
// code; a stop requested during the restore ends it with 0 and nothing opened (the restore leaves
// no file behind, or the whole checked one).
int prepare_database(server_context& ctx, io_pool& pool, asio::thread_pool& db_pool, std::stop_token stop = {}) {
  proto::result<void> prepared;
  if (!ctx.settings.postgres_url.empty()) prepared = open_postgres(ctx, pool);
  if (ctx.settings.follows()) {
    prepared = open_follower_database(ctx, pool, db_pool);
    if (prepared) return 0;
    log::error("cannot follow", {{"db", ctx.settings.db_path}, {"error", prepared.error().message}});
    return 1;
  }
  if (ctx.settings.restore_if_missing) {
    auto restored =
        replica::restore_if_missing(ctx.settings.db_path, ctx.settings.replicas.front(), ctx.settings.replica_keys,
                                    ctx.settings.replica_retry_timeout, [&stop] { return stop.stop_requested(); });
    if (stop.stop_requested()) {
      log::info("restore stopped by the shutdown; nothing opened",
                {{"db", ctx.settings.db_path}, {"restored", restored.has_value()}});
      return 0;
    }
    if (!restored) prepared = proto::internal_error(restored.error().message);
  }
  if (prepared && !ctx.engine)
    prepared = open_database(ctx, db_pool.get_executor(), reader_executors(ctx.settings, pool, db_pool));
  if (prepared) prepared = start_replication(ctx, pool.context(0).get_executor());
  if (prepared && ctx.writer) prepared = start_replication_log(ctx);
  if (prepared) return 0;
  log::error("cannot open database", {{"db", database_name(ctx.settings)}, {"error", prepared.error().message}});
  return 1;
}

void announce_ready(server_context& ctx, const listener& lst, io_pool& pool) {
  if (ctx.verifier) ctx.verifier->start();
  if (!ctx.follower) ctx.ready.store(true, std::memory_order_release);  // a follower: once its copy exists
  ctx.guards = std::make_shared<guard_watch>(ctx, pool.context(0).get_executor());
  ctx.guards->start();
  if (ctx.statement_log) {
    ctx.statement_saver = std::make_shared<statement_log_saver>(*ctx.statement_log, pool.context(0).get_executor());
    ctx.statement_saver->start();
  }
  log::info("listening", {{"address", ctx.settings.listen_host},
                          {"port", lst.port()},
                          {"db", database_name(ctx.settings)},
                          {"engine", ctx.readers ? "sqlite" : "postgres"},
                          {"readers", ctx.readers ? ctx.readers->size() : ctx.settings.pg_pool},
                          {"threads", pool.size()}});
}

void add_routes(server_context& ctx) {
  if (ctx.settings.follows()) {
    add_follow_routes(ctx);
    add_system_routes(ctx);
    return install_access_check(ctx);
  }
  add_sql_routes(ctx);
  add_hrana_routes(ctx);
  add_system_routes(ctx);
  if (ctx.settings.postgres_url.empty()) {  // what only SQLite has
    add_replication_routes(ctx);
    add_read_only_routes(ctx);
    add_wal_log_routes(ctx);
    add_proxy_routes(ctx, {1024, [&ctx]() -> std::optional<std::uint64_t> {
                             // The writer numbers a commit's frames before it returns: the write
                             // just answered is at or before this frame (read-your-writes).
                             if (!ctx.ready.load(std::memory_order_acquire) || !ctx.replication_log)
                               return std::nullopt;
                             const auto next = ctx.writer->next_frame_no();
                             return next > 0 ? std::optional(next - 1) : std::nullopt;
                           }});
  }
  install_access_check(ctx);
}

// After the pools stopped: the replicator's threads first, then the connections.
void release_actors(server_context& ctx) {
  ctx.verifier.reset();  // stops and joins its thread (already done after a normal shutdown)
  if (ctx.replicator) ctx.replicator->stop();
  ctx.engine.reset();  // it refers to the readers
  ctx.hrana.reset();
  ctx.readers.reset();
  ctx.follower.reset();  // its descriptor of the file closes after every SQLite connection did
  ctx.writer.reset();
}

bool restores_first(const server::settings& s) {
  std::error_code ec;
  return s.restore_if_missing && !std::filesystem::exists(s.db_path, ec);
}

// One run: the signals, and the starter thread when a restore comes first. The handlers and
// started() run on pool.context(0).
class server_run {
 public:
  server_run(server_context& ctx, io_pool& pool, listener& lst, startup_state& state)
      : ctx_(ctx),
        pool_(pool),
        lst_(lst),
        state_(state),
        hangup_(pool.context(0), SIGHUP),
        signals_(pool.context(0), SIGINT, SIGTERM) {
    reload_on_hangup(hangup_, ctx_);
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      hangup_.cancel();
      shut_down(ctx_, state_, lst_, pool_);
    });
  }

  // Restores and opens the database on a thread of its own; the outcome is posted to context 0.
  void prepare_in_background(asio::thread_pool& db_pool) {
    state_.starting = true;
    starter_ = std::thread([this, &db_pool, stop = state_.restore_stop.get_token()] {
      const int code = prepare_database(ctx_, pool_, db_pool, stop);
      asio::post(pool_.context(0), [this, code] { started(code); });
    });
  }

  // Runs the io threads until the shutdown is over; the exit code.
  int run() {
    pool_.run();
    if (starter_.joinable()) starter_.join();
    return exit_code_;
  }

 private:
  // The starter's report. What it opened is visible here: the post orders its writes before.
  void started(int code) {
    state_.starting = false;
    state_.database_open = ctx_.engine != nullptr;
    if (code != 0) exit_code_ = code;
    if (ctx_.draining.load(std::memory_order_acquire)) return;  // the shutdown watch goes on from here
    if (code == 0) return announce_ready(ctx_, lst_, pool_);
    signals_.cancel();
    hangup_.cancel();
    shut_down(ctx_, state_, lst_, pool_);  // closes what did open, so that the pools can finish
  }

  server_context& ctx_;
  io_pool& pool_;
  listener& lst_;
  startup_state& state_;
  asio::signal_set hangup_;
  asio::signal_set signals_;
  std::thread starter_;
  int exit_code_ = 0;  // written on context 0, read once the pool has stopped
};

// The auth file and the statement log: what must be readable before anything starts (exit code 2
// when not, as for a bad flag; 0 when both are fine).
int load_files(server_context& ctx) {
  if (int code = load_auth(ctx)) return code;
  if (auto opened = open_statement_log(ctx); !opened) {
    log::error("cannot use the statement log", {{"error", opened.error().message}});
    return 2;
  }
  return 0;
}

}  // namespace

int serve(const server::settings& settings) {
  log::set_level(settings.log_level);
  // The pools first, so that on every return the context (actors, timers) goes before them. The
  // database pool before the HTTP threads, so that it outlives them: a handler still queued on an
  // HTTP thread when it stops may hold the last reference to an actor whose timers run on the
  // database pool (the writer's, the Hrana service's); it is destroyed with its io_context, and
  // the timer must find its pool alive then. The database pool has nothing queued after join().
  asio::thread_pool db_pool(1 + (settings.readers_on_io_threads ? 0 : settings.readers));
  io_pool pool(settings.threads);
  auto ctx = std::make_unique<server_context>();
  ctx->settings = settings;
  if (int code = load_files(*ctx)) return code;
  // A restore can take a while: then the port is open first, and /readyz says 503 until done.
  const bool restore_first = restores_first(settings);
  startup_state state;
  if (!restore_first) {
    if (int code = prepare_database(*ctx, pool, db_pool)) return code;
    state.database_open = true;
  }
  add_routes(*ctx);
  auto lst = listener::bind(pool, *ctx, {asio::ip::make_address(settings.listen_host), settings.listen_port});
  if (!lst) {
    log::error("cannot listen", {{"error", lst.error().message}});
    return 1;
  }
  server_run run(*ctx, pool, **lst, state);
  (*lst)->start();
  if (restore_first) {
    run.prepare_in_background(db_pool);
  } else {
    announce_ready(*ctx, **lst, pool);
  }
  const int exit_code = run.run();
  db_pool.join();  // the actors' last work is done; only now may their connections close
  save_statement_log(*ctx);
  release_actors(*ctx);
  close_replication_log(*ctx);  // once every connection closed: the files are as the next start finds them
  log::info("stopped");
  return exit_code;
}

}  // namespace monolite::server
