#include "server/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <thread>

#include "server/http_session.hpp"
#include "server/listener.hpp"
#include "server/log.hpp"
#include "server/server_context.hpp"

namespace monolite::server {
namespace asio = boost::asio;

namespace {

db::connection_options connection_options_for(const cli::serve_settings& s) {
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
  return o;
}

proto::result<void> open_database(server_context& ctx, asio::any_io_executor writer_executor,
                                  asio::any_io_executor reader_executor) {
  std::error_code fs_ec;
  const auto folder = std::filesystem::path(ctx.settings.db_path).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder, fs_ec);
  if (fs_ec) return proto::internal_error("cannot create " + folder.string() + ": " + fs_ec.message());
  actors::writer_options writer_opts;
  writer_opts.mailbox_capacity = ctx.settings.writer_queue;
  // The writer opens first: it creates the file and switches it to WAL before readers attach.
  auto writer = actors::writer_actor::open(writer_executor, connection_options_for(ctx.settings), writer_opts);
  if (!writer) return writer.error();
  ctx.writer = std::move(*writer);
  auto readers = actors::reader_pool::open(reader_executor, connection_options_for(ctx.settings), ctx.settings.readers,
                                           ctx.settings.writer_queue);
  if (!readers) return readers.error();
  ctx.readers = std::move(*readers);
  return {};
}

// Waits (polling every 20 ms) until every session has closed or the grace period is over, then
// lets the writer drain, checkpoint and close, and stops the io_context.
class shutdown_watch : public std::enable_shared_from_this<shutdown_watch> {
 public:
  shutdown_watch(server_context& ctx, asio::io_context& ioc)
      : ctx_(ctx), ioc_(ioc), timer_(ioc), deadline_(std::chrono::steady_clock::now() + ctx.settings.shutdown_grace) {}

  void poll() {
    if (ctx_.sessions.size() > 0 && std::chrono::steady_clock::now() < deadline_) {
      timer_.expires_after(std::chrono::milliseconds(20));
      timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->poll(); });
      return;
    }
    if (ctx_.sessions.size() > 0) {
      log::warn("grace period over; interrupting running statements", {{"open", ctx_.sessions.size()}});
      ctx_.writer->interrupt();
      ctx_.readers->interrupt();
    }
    ctx_.writer->close(ioc_.get_executor(), [&ioc = ioc_] { ioc.stop(); });
  }

 private:
  server_context& ctx_;
  asio::io_context& ioc_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
};

// Stop accepting, let sessions answer what they hold, then let the writer drain and checkpoint.
void shut_down(server_context& ctx, listener& lst, asio::io_context& ioc) {
  log::info("shutting down", {{"grace_ms", ctx.settings.shutdown_grace.count()}});
  ctx.draining.store(true, std::memory_order_release);
  lst.stop();
  ctx.sessions.for_each([](const std::shared_ptr<http_session>& s) { s->finish(); });
  std::make_shared<shutdown_watch>(ctx, ioc)->poll();
}

// A handler that throws is a bug; log it and keep serving rather than take every connection down.
void run_io(asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      log::error("unexpected exception in a request handler", {{"error", e.what()}});
    }
  }
}

void run_threads(asio::io_context& ioc, unsigned count) {
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < count; ++i) threads.emplace_back([&ioc] { run_io(ioc); });
  run_io(ioc);
  for (auto& t : threads) t.join();
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

// One thread per connection that does not run on the HTTP threads: SQLite calls block.
unsigned database_threads(const cli::serve_settings& s) {
  return std::max(1u, (s.writer_on_io_threads ? 0u : 1u) + (s.readers_on_io_threads ? 0u : s.readers));
}

}  // namespace

int serve(const cli::serve_settings& settings) {
  log::set_level(settings.log_level);
  auto ctx = std::make_unique<server_context>();
  ctx->settings = settings;
  if (int code = load_auth(*ctx)) return code;
  asio::io_context ioc(static_cast<int>(settings.threads));
  asio::thread_pool db_pool(database_threads(settings));
  auto executor_for = [&](bool on_io) {
    return on_io ? asio::any_io_executor(ioc.get_executor()) : asio::any_io_executor(db_pool.get_executor());
  };
  if (auto opened = open_database(*ctx, executor_for(settings.writer_on_io_threads),
                                  executor_for(settings.readers_on_io_threads));
      !opened) {
    log::error("cannot open database", {{"db", settings.db_path}, {"error", opened.error().message}});
    return 1;
  }
  add_sql_routes(*ctx);
  add_system_routes(*ctx);
  install_access_check(*ctx);
  auto lst = listener::bind(ioc, *ctx, {asio::ip::make_address(settings.listen_host), settings.listen_port});
  if (!lst) {
    log::error("cannot listen", {{"error", lst.error().message}});
    return 1;
  }
  asio::signal_set hangup(ioc, SIGHUP);
  reload_on_hangup(hangup, *ctx);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    hangup.cancel();
    shut_down(*ctx, **lst, ioc);
  });
  (*lst)->start();
  ctx->ready.store(true, std::memory_order_release);
  log::info("listening", {{"address", settings.listen_host}, {"port", (*lst)->port()}, {"db", settings.db_path},
                          {"readers", settings.readers}, {"threads", settings.threads}});
  run_threads(ioc, settings.threads);
  db_pool.join();  // the actors' last work is done; only now may their connections close
  ctx->readers.reset();
  ctx->writer.reset();
  log::info("stopped");
  return 0;
}

}  // namespace monolite::server
