// async_connection — one non-blocking libpq connection driven by Asio; no thread of its own and no
// blocking libpq call on an Asio thread (but PQcancel, see cancel()).
// Executor: the strand given to create(); every libpq call and every member runs on it (checked by
//   MONOLITE_ASSERT_ON_STRAND in debug and sanitizer builds). The public calls are thread-safe: they
//   post to the strand. Handlers run on that strand; a caller that wants them elsewhere posts on.
// One operation at a time (connect or exec); a second exec while one runs is answered at once with
//   sqlstate ML005. exec() sends a whole group in one round trip (pipeline mode, one sync).
// Errors: PostgreSQL's own fields when the server said no; our codes: 08001 connect failed or timed
//   out, 08006 connection lost / closed / wait cancelled (then broken()), ML001 a result over the
//   group's limits, ML005 busy. Note: a host NAME is resolved by libpq itself (blocking getaddrinfo);
//   give an IP address or a Unix socket folder to keep the strand's thread from blocking on DNS.
// Prepared statements (connect_options::prepare): exec() prepares each statement once per
//   connection (a Parse in the same pipeline, before its first run), keeps up to
//   statement_cache_capacity of them, least recently used out; an evicted one is deallocated in a
//   group of its own (its own sync) sent ahead of the next group started outside a transaction.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pg/error.hpp"
#include "pg/statement_cache.hpp"

struct pg_conn;
struct pg_result;

namespace monolite::pg {

inline constexpr const char* sqlstate_connect_failed = "08001";
inline constexpr const char* sqlstate_connection_lost = "08006";
inline constexpr const char* sqlstate_result_too_large = "ML001";
inline constexpr const char* sqlstate_busy = "ML005";

struct param {
  unsigned oid = 0;   // 0: let the server infer the type
  std::string bytes;  // text form (format 0) or binary form (format 1)
  int format = 0;
  bool is_null = false;
};

struct query {
  std::string sql;  // one statement, $1…$n placeholders
  std::vector<param> params;
  int result_format = 0;  // 0 text, 1 binary
};

// Statements sent together: between their one sync they form one implicit transaction. The limits
// are checked here, client-side, on the rows of every statement together: past them the group
// fails with ML001 (the rest is read and dropped), although the server ran (and committed) it.
struct query_group {
  std::vector<query> queries;
  std::size_t max_rows = std::numeric_limits<std::size_t>::max();
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();  // sum of the values' lengths
  bool keep_rows = true;  // false: rows are read and dropped, and the limits do not apply
};

struct query_result {
  std::vector<std::string> columns;
  std::vector<unsigned> column_oids;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt is SQL NULL
  std::string command_tag;                                    // e.g. "INSERT 0 3"
  std::int64_t rows_affected = 0;                             // PQcmdTuples, 0 when none
};

// The first failure of a group and the index of the statement that failed (the later ones were
// aborted by PostgreSQL; none of the group was committed, unless the failure is ML001).
struct exec_failure {
  pg::error error;
  std::size_t statement_index = 0;
};
[[noreturn]] void throw_exception_from_error(const exec_failure& e, const boost::source_location& location);

using exec_result = boost::system::result<std::vector<query_result>, exec_failure>;

// PQtransactionStatus between operations; `unknown` while one runs or once broken.
enum class transaction_status { idle, in_transaction, in_error, unknown };

struct connect_options {
  std::chrono::milliseconds connect_timeout{5000};  // the whole connect, settings included
  std::chrono::milliseconds statement_timeout{0};   // SET statement_timeout; 0 = none
  bool prepare = true;                              // false: every statement unnamed, parsed and planned on every exec
  std::size_t statement_cache_capacity = default_statement_cache_capacity;
};

class async_connection : public std::enable_shared_from_this<async_connection> {
 public:
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;
  using connect_handler = std::function<void(result<void>)>;
  using exec_handler = std::function<void(exec_result)>;

  static std::shared_ptr<async_connection> create(strand_type strand);
  ~async_connection();
  async_connection(const async_connection&) = delete;
  async_connection& operator=(const async_connection&) = delete;

  // `conninfo`: postgres://… or key=value. Then the session settings (ISO dates, UTC, float text
  // that round-trips, UTF8, statement_timeout), all in one round trip.
  void connect(std::string conninfo, connect_options options, connect_handler handler);
  void exec(query_group group, exec_handler handler);
  // Fails the running operation with 08006 and leaves the connection broken (mid-protocol).
  void cancel_wait();
  // Ends the connection (our duplicate of the socket closed, then PQfinish); a running operation
  // fails with 08006. `closed` (when given) runs on the strand once that is done.
  void close(std::function<void()> closed = {});
  // Asks the server to cancel the running statement (it then fails with 57014). libpq 15 has no
  // non-blocking cancel (PQcancelConn is 17+), so the blocking PQcancel runs on `blocking`, an
  // executor that must not be an Asio thread serving requests. `done` runs on `blocking`.
  void cancel(boost::asio::any_io_executor blocking, std::function<void(result<void>)> done);
  // While idle: wait for the server to close the connection; `lost` runs (on the strand) when it
  // did. The next exec() or close() stops the watch.
  void watch_idle(std::function<void()> lost);

  // Thread-safe; meaningful between operations.
  bool broken() const { return broken_.load(std::memory_order_acquire); }
  transaction_status transaction_state() const { return state_.load(std::memory_order_acquire); }
  int backend_pid() const { return backend_pid_.load(std::memory_order_acquire); }
  // The socket's descriptor (-1 when none), for diagnostics and tests; never read or close it.
  int socket_handle() const { return socket_fd_.load(std::memory_order_acquire); }
  const strand_type& strand() const { return strand_; }

 private:
  enum class operation { none, connecting, executing, watching };
  // One entry of the pipeline, in the order sent; their results come back in that order.
  enum class step_kind { aside, sync, prepare, execute, group_end };  // aside: ours, not counted
  struct step {
    step_kind kind;
    std::size_t statement = 0;  // prepare, execute: its index in the group
    std::string name;           // the prepared statement's name; "" unnamed
    bool prepared = false;      // prepare: the server said yes
  };
  struct exec_state {
    query_group group;
    exec_handler handler;
    std::vector<query_result> results;
    std::size_t index = 0;  // the statement whose results come next
    std::size_t rows = 0;   // over the whole group, against its limits
    std::size_t bytes = 0;
    std::optional<exec_failure> failure;  // the first; later results are read and dropped
    std::vector<step> steps;
    std::size_t at = 0;              // the step whose results come next
    bool started_idle = false;       // no transaction was open when the group was sent
    bool ended_transaction = false;  // a statement of the group committed or rolled back
    bool retried = false;
    bool retry = false;  // it failed only on a stale prepared statement, and left nothing behind
  };

  explicit async_connection(strand_type strand);
  void start_connect(const std::string& conninfo, connect_options options, connect_handler handler);
  void poll_connect(int polling);
  void connected();
  void finish_connect(result<void> outcome);

  void start_exec(query_group group, exec_handler handler);
  void run_group(query_group group, exec_handler handler, bool use_cache, bool retried = false);
  bool send_group(bool use_cache);
  bool send_aside(const std::string& sql, const std::string& name);
  void retry_group();
  bool send_deallocations();
  bool send_statement(std::size_t i, bool use_cache);
  std::string prepared_name(std::size_t i);
  void enter_step();
  void next_step();
  bool take_step_result(step& now, pg_result* r);
  void take_failure(const step& now, pg_result* r);
  void flush();
  void read_results();
  bool take_result(pg_result* r);
  void add_rows(pg_result* r);
  void end_of_statement(pg_result* r);
  void finish_exec();
  void fail_exec(error e);

  void start_watch(std::function<void()> lost);
  void watch_step();
  void stop_watch();
  void stop();
  void teardown();

  using ready_handler = std::function<void()>;
  void wrap_socket();
  void drop_socket();
  void wait(boost::asio::posix::descriptor_base::wait_type type, ready_handler ready);
  void wait_read_or_write(ready_handler ready);
  void look_once(short events, ready_handler ready);
  void on_wait_done(std::uint64_t ticket, const boost::system::error_code& ec, const ready_handler& ready);
  void fail_operation(error e);
  error lost_error(const std::string& fallback) const;
  void post_failure(exec_handler handler, error e);
  void mark_broken();
  void publish_state();

  strand_type strand_;
  boost::asio::steady_timer timer_;
  std::optional<boost::asio::posix::stream_descriptor> socket_;
  pg_conn* conn_ = nullptr;
  operation op_ = operation::none;
  std::uint64_t wait_ticket_ = 0;  // a wait completes only while its ticket is the latest
  std::chrono::milliseconds statement_timeout_{0};
  bool prepare_ = true;
  statement_cache statements_;
  connect_handler connect_done_;
  std::function<void()> lost_;
  std::unique_ptr<exec_state> exec_;
  std::atomic<bool> broken_{false};
  std::atomic<transaction_status> state_{transaction_status::unknown};
  std::atomic<int> backend_pid_{0};
  std::atomic<int> socket_fd_{-1};
};

}  // namespace monolite::pg
