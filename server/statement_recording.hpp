// Where the statement log (server/statement_log.hpp) meets the server: the routes hand it each
// statement text they were sent, a timer saves it every 10 s, and shutdown saves it a last time.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proto/hrana.hpp"
#include "proto/sql_request.hpp"

namespace monolite::server {

struct server_context;
class statement_log;

// --statement-log: reads and rewrites FILE (an error when it cannot: serve refuses to start).
proto::result<void> open_statement_log(server_context& ctx);
// Each does nothing without --statement-log. Called on the HTTP threads, before the work runs.
void record_statements(const server_context& ctx, const std::vector<proto::statement>& statements);
void record_statement(const server_context& ctx, const proto::statement& statement);
void record_hrana_requests(const server_context& ctx, const std::vector<proto::hrana::decoded_request>& requests);
void record_hrana_batch(const server_context& ctx, const proto::hrana::batch& batch);
// The last save, once nothing records any more (the pools have stopped).
void save_statement_log(const server_context& ctx);
void append_statement_log_metrics(const server_context& ctx, std::string& out);

// Saves the log every `period` on `executor` (serial: the server's first io thread) until stop().
class statement_log_saver : public std::enable_shared_from_this<statement_log_saver> {
 public:
  static constexpr std::chrono::seconds period{10};

  statement_log_saver(statement_log& log, boost::asio::any_io_executor executor);
  void start();
  void stop();  // thread-safe

 private:
  void schedule();

  statement_log& log_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;  // on the executor
};

}  // namespace monolite::server
