#include "server/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <thread>

#include "server/access.hpp"
#include "server/hrana_routes.hpp"
#include "server/http_session.hpp"
#include "server/io_pool.hpp"
#include "server/listener.hpp"
#include "replica/boot_restore.hpp"
#include "server/replication_routes.hpp"
#include "common/log.hpp"
#include "server/server_context.hpp"
#include "server/sql_routes.hpp"
#include "server/system_routes.hpp"

namespace monolite::server {
namespace asio = boost::asio;

namespace {

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
  // The writer opens first: it creates the file and switches it to WAL before readers attach.
  auto writer = actors::writer_actor::open(writer_executor, connection_options_for(ctx.settings), writer_opts);
  if (!writer) return writer.error();
  ctx.writer = std::move(*writer);
  auto readers = actors::reader_pool::open(reader_executors, connection_options_for(ctx.settings),
                                           ctx.settings.writer_queue);
  if (!readers) return readers.error();
  ctx.readers = std::move(*readers);
  return open_hrana(ctx, connection_options_for(ctx.settings), writer_executor, reader_executors);
}

// Waits (polling every 20 ms) until every session has closed or the grace period is over, then
// lets the writer drain, checkpoint and close, and stops the io_context.
class shutdown_watch : public std::enable_shared_from_this<shutdown_watch> {
 public:
  shutdown_watch(server_context& ctx, io_pool& pool)
      : ctx_(ctx), pool_(pool), timer_(pool.context(0)),
        deadline_(std::chrono::steady_clock::now() + ctx.settings.shutdown_grace) {}

  void poll() {
    if (ctx_.sessions.size() > 0 && std::chrono::steady_clock::now() < deadline_) {
      timer_.expires_after(std::chrono::milliseconds(20));
      timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->poll(); });
      return;
    }
    if (!ctx_.writer) return pool_.stop();  // still restoring: nothing is open yet
    if (ctx_.sessions.size() > 0) {
      log::warn("grace period over; interrupting running statements", {{"open", ctx_.sessions.size()}});
      ctx_.writer->interrupt();
      ctx_.readers->interrupt();
      if (ctx_.hrana) ctx_.hrana->interrupt();
    }
    if (ctx_.hrana) ctx_.hrana->stop();
    ctx_.writer->close(pool_.context(0).get_executor(), [&pool = pool_] { pool.stop(); });
  }

 private:
  server_context& ctx_;
  io_pool& pool_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
};

// Stop accepting, let sessions answer what they hold, then let the writer drain and checkpoint.
void shut_down(server_context& ctx, listener& lst, io_pool& pool) {
  log::info("shutting down", {{"grace_ms", ctx.settings.shutdown_grace.count()}});
  ctx.draining.store(true, std::memory_order_release);
  lst.stop();
  ctx.sessions.for_each([](const std::shared_ptr<http_session>& s) { s->finish(); });
  std::make_shared<shutdown_watch>(ctx, pool)->poll();
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
    for (std::size_t i = 0; i < pool.size(); ++i) out.push_back(pool.context(i).get_executor());
  } else {
    out.assign(s.readers, db_pool.get_executor());
  }
  return out;
}

// Restore (when asked and the file is missing), open the actors, start replication. 0 or an exit code.
int prepare_database(server_context& ctx, io_pool& pool, asio::thread_pool& db_pool) {
  proto::result<void> prepared;
  if (ctx.settings.restore_if_missing) {
    if (auto restored = replica::restore_if_missing(ctx.settings.db_path, ctx.settings.replicas.front(),
                                                                ctx.settings.replica_retry_timeout); !restored)
      prepared = proto::internal_error(restored.error().message);
  }
  if (prepared) prepared = open_database(ctx, db_pool.get_executor(), reader_executors(ctx.settings, pool, db_pool));
  if (prepared) prepared = start_replication(ctx, pool.context(0).get_executor());
  if (prepared) return 0;
  log::error("cannot open database", {{"db", ctx.settings.db_path}, {"error", prepared.error().message}});
  return 1;
}

void announce_ready(server_context& ctx, const listener& lst, const io_pool& pool) {
  ctx.ready.store(true, std::memory_order_release);
  log::info("listening", {{"address", ctx.settings.listen_host}, {"port", lst.port()}, {"db", ctx.settings.db_path},
                          {"readers", ctx.readers->size()}, {"threads", pool.size()}});
}

void add_routes(server_context& ctx) {
  add_sql_routes(ctx);
  add_hrana_routes(ctx);
  add_system_routes(ctx);
  add_replication_routes(ctx);
  install_access_check(ctx);
}

// After the pools stopped: the replicator's threads first, then the connections.
void release_actors(server_context& ctx) {
  if (ctx.replicator) ctx.replicator->stop();
  ctx.hrana.reset();
  ctx.readers.reset();
  ctx.writer.reset();
}

bool restores_first(const server::settings& s) {
  std::error_code ec;
  return s.restore_if_missing && !std::filesystem::exists(s.db_path, ec);
}

}  // namespace

int serve(const server::settings& settings) {
  log::set_level(settings.log_level);
  // The pools first, so that on every return the context (actors, timers) goes before them.
  io_pool pool(settings.threads);
  asio::thread_pool db_pool(1 + (settings.readers_on_io_threads ? 0 : settings.readers));
  auto ctx = std::make_unique<server_context>();
  ctx->settings = settings;
  if (int code = load_auth(*ctx)) return code;
  // A restore can take a while: then the port is open first, and /readyz says 503 until done.
  const bool restore_first = restores_first(settings);
  if (!restore_first) {
    if (int code = prepare_database(*ctx, pool, db_pool)) return code;
  }
  add_routes(*ctx);
  auto lst = listener::bind(pool, *ctx, {asio::ip::make_address(settings.listen_host), settings.listen_port});
  if (!lst) {
    log::error("cannot listen", {{"error", lst.error().message}});
    return 1;
  }
  asio::signal_set hangup(pool.context(0), SIGHUP);
  reload_on_hangup(hangup, *ctx);
  asio::signal_set signals(pool.context(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    hangup.cancel();
    shut_down(*ctx, **lst, pool);
  });
  (*lst)->start();
  std::atomic<int> exit_code{0};
  std::thread starter;
  if (restore_first) {
    starter = std::thread([&] {
      if (int code = prepare_database(*ctx, pool, db_pool)) {
        exit_code = code;
        return asio::post(pool.context(0), [&] { signals.cancel(), hangup.cancel(), pool.stop(); });
      }
      announce_ready(*ctx, **lst, pool);
    });
  } else {
    announce_ready(*ctx, **lst, pool);
  }
  pool.run();
  if (starter.joinable()) starter.join();
  db_pool.join();  // the actors' last work is done; only now may their connections close
  release_actors(*ctx);
  log::info("stopped");
  return exit_code;
}

}  // namespace monolite::server
