// pg_engine — the engine over PostgreSQL: a bounded pool of non-blocking libpq connections
//   (pg_pool.hpp) whose sockets Asio waits on; no thread of its own and no blocking call.
// Executor: each connection's strand (on the HTTP threads' executors); replies are posted to the
//   caller's `reply_to`.
// Requests: /sql/query runs in BEGIN READ ONLY … COMMIT, one round trip; /sql/execute is one
//   implicit transaction, one round trip; /sql/batch runs in BEGIN …, then COMMIT once its rows fit.
// Full mailbox: past the pool's queue 503 OVERLOADED at once; no connection 503 NOT_READY.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "actors/pg_hrana.hpp"
#include "actors/pg_pool.hpp"
#include "actors/pg_statements.hpp"

namespace monolite::actors {

struct pg_engine_options {
  std::string url;  // postgres://… (libpq)
  std::size_t pool_size = 8;
  std::size_t queue_capacity = 4096;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{0};
  pg_sql_limits limits;
  pg_hrana_limits hrana;
};

// The URL without its password, for logs.
std::string redacted_url(const std::string& url);

// Where the client's statements are in a group (after a BEGIN of ours, say), to name the failing one.
struct client_statements {
  std::size_t first = 0;
  std::size_t count = 1;
};

class pg_engine final : public engine, public std::enable_shared_from_this<pg_engine> {
 public:
  // Connects in the background: available() turns true once a connection is up.
  static proto::result<std::shared_ptr<pg_engine>> open(const std::vector<boost::asio::any_io_executor>& executors,
                                                        const pg_engine_options& options);

  void query(proto::statement statement, boost::asio::any_io_executor reply_to, std::size_t home,
             read_handler reply) override;
  void write(proto::write_request request, boost::asio::any_io_executor reply_to, write_handler reply) override;
  void pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                std::vector<proto::hrana::decoded_request> requests, boost::asio::any_io_executor reply_to,
                std::size_t home, pipeline_handler done) override;
  bool available() const override { return pool_->ready(); }
  std::string unavailable_reason() const override { return "no connection to PostgreSQL can be made"; }
  std::size_t open_streams() const override { return hrana_->open_streams(); }
  void append_metrics(std::string& out) const override;
  void interrupt() override;
  void close(boost::asio::any_io_executor done_on, std::function<void()> done) override;

 private:
  using group_handler = std::function<void(proto::result<std::vector<pg::query_result>>)>;
  pg_engine(std::shared_ptr<pg_pool> pool, std::shared_ptr<pg_hrana> hrana, const pg_engine_options& options);
  // Runs `group` on a pooled connection; `then` runs on `reply_to`. With `commit_after`, a COMMIT
  // follows in a second round trip once the group succeeded (the pool rolls back otherwise).
  void run_group(pg::query_group group, bool commit_after, client_statements span,
                 boost::asio::any_io_executor reply_to, group_handler then);

  std::shared_ptr<pg_pool> pool_;
  std::shared_ptr<pg_hrana> hrana_;
  pg_sql_limits limits_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace monolite::actors
