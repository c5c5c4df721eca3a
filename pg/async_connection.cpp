// The connection's life: connect (PQconnectPoll), the waits on its socket, the idle watch, cancel,
// close. The pipeline of exec() is in async_exec.cpp.
#include "pg/async_connection.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>

#include <boost/asio/post.hpp>
#include <boost/throw_exception.hpp>
#include <stdexcept>

#include "common/strand_check.hpp"

namespace monolite::pg {
namespace asio = boost::asio;
using wait_type = asio::posix::descriptor_base::wait_type;

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

error coded(const char* sqlstate, std::string message) {
  error e = connection_error(std::move(message));
  e.sqlstate = sqlstate;
  return e;
}

}  // namespace

void throw_exception_from_error(const exec_failure& e, const boost::source_location& location) {
  boost::throw_exception(
      std::runtime_error("statement " + std::to_string(e.statement_index) + ": " + e.error.describe()), location);
}

std::shared_ptr<async_connection> async_connection::create(strand_type strand) {
  return std::shared_ptr<async_connection>(new async_connection(std::move(strand)));
}

async_connection::async_connection(strand_type strand) : strand_(std::move(strand)), timer_(strand_) {}

async_connection::~async_connection() { teardown(); }

void async_connection::connect(std::string conninfo, connect_options options, connect_handler handler) {
  asio::post(strand_,
             [self = shared_from_this(), conninfo = std::move(conninfo), options,
              handler = std::move(handler)]() mutable { self->start_connect(conninfo, options, std::move(handler)); });
}

void async_connection::cancel_wait() {
  asio::post(strand_, [self = shared_from_this()] {
    MONOLITE_ASSERT_ON_STRAND(self->strand_);
    if (self->op_ == operation::watching) {
      self->stop_watch();
    } else if (self->op_ != operation::none) {
      self->fail_operation(coded(sqlstate_connection_lost, "the wait on PostgreSQL was cancelled"));
    }
  });
}

void async_connection::close(std::function<void()> closed) {
  asio::post(strand_, [self = shared_from_this(), closed = std::move(closed)] {
    self->stop();
    if (closed) closed();
  });
}

void async_connection::cancel(asio::any_io_executor blocking, std::function<void(result<void>)> done) {
  asio::post(strand_, [self = shared_from_this(), blocking, done = std::move(done)]() mutable {
    MONOLITE_ASSERT_ON_STRAND(self->strand_);
    PGcancel* request = self->conn_ ? PQgetCancel(self->conn_) : nullptr;
    if (!request) return asio::post(blocking, [done] { done(connection_error("no connection to cancel")); });
    // PQcancel opens a connection of its own and waits for the server: off the Asio threads.
    asio::post(blocking, [request, done] {
      char reason[256] = {};
      const bool sent = PQcancel(request, reason, sizeof reason) == 1;
      PQfreeCancel(request);
      done(sent ? result<void>{} : result<void>(connection_error(trimmed(reason))));
    });
  });
}

void async_connection::watch_idle(std::function<void()> lost) {
  asio::post(strand_,
             [self = shared_from_this(), lost = std::move(lost)]() mutable { self->start_watch(std::move(lost)); });
}

void async_connection::start_connect(const std::string& conninfo, connect_options options, connect_handler handler) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (op_ != operation::none || conn_) {
    return handler(coded(sqlstate_busy, "connect() on a connection that is open or opening"));
  }
  conn_ = PQconnectStart(conninfo.c_str());
  if (!conn_) return handler(coded(sqlstate_connect_failed, "out of memory opening a PostgreSQL connection"));
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);  // NOTICEs and WARNINGs are not errors
  op_ = operation::connecting;
  connect_done_ = std::move(handler);
  statement_timeout_ = options.statement_timeout;
  prepare_ = options.prepare;
  statements_ = statement_cache(options.statement_cache_capacity);  // a new session has none
  if (PQstatus(conn_) == CONNECTION_BAD) {
    return finish_connect(coded(sqlstate_connect_failed, trimmed(PQerrorMessage(conn_))));
  }
  timer_.expires_after(options.connect_timeout);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->op_ != operation::connecting) return;
    self->fail_operation(coded(sqlstate_connect_failed, "timed out connecting to PostgreSQL"));
  });
  poll_connect(PGRES_POLLING_WRITING);
}

void async_connection::poll_connect(int polling) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (polling == PGRES_POLLING_OK) return connected();
  if (polling == PGRES_POLLING_FAILED) {
    return finish_connect(coded(sqlstate_connect_failed, trimmed(PQerrorMessage(conn_))));
  }
  // The socket may change between polls (another host, SSL retry), even to the same number.
  wrap_socket();
  if (!socket_) return finish_connect(coded(sqlstate_connect_failed, "libpq gave no socket"));
  wait(polling == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write,
       [this] { poll_connect(PQconnectPoll(conn_)); });
}

void async_connection::connected() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) {
    return finish_connect(coded(sqlstate_connect_failed, trimmed(PQerrorMessage(conn_))));
  }
  backend_pid_.store(PQbackendPID(conn_), std::memory_order_release);
  // Every session reads the same text back: ISO dates in UTC, floats that round-trip, UTF-8.
  query_group settings;
  for (std::string sql :
       {"SET DateStyle = ISO", "SET TimeZone = 'UTC'", "SET extra_float_digits = 3", "SET client_encoding = 'UTF8'"})
    settings.queries.push_back({std::move(sql), {}, 0});
  if (statement_timeout_.count() > 0) {
    settings.queries.push_back({"SET statement_timeout = " + std::to_string(statement_timeout_.count()), {}, 0});
  }
  run_group(
      std::move(settings),
      [this](exec_result done) {
        if (!done) return finish_connect(done.error().error);
        finish_connect(result<void>{});
      },
      false);  // run once per connection: not worth preparing
}

void async_connection::finish_connect(result<void> outcome) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  timer_.cancel();
  exec_.reset();
  op_ = operation::none;
  if (!outcome) {
    if (outcome.error().sqlstate == sqlstate_connection_lost) outcome.error().sqlstate = sqlstate_connect_failed;
    mark_broken();
    teardown();
  } else {
    publish_state();
  }
  auto done = std::move(connect_done_);
  done(std::move(outcome));
}

void async_connection::start_watch(std::function<void()> lost) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (op_ != operation::none) return;
  if (broken_ || !socket_) return lost();
  op_ = operation::watching;
  lost_ = std::move(lost);
  watch_step();
}

void async_connection::watch_step() {
  wait(wait_type::wait_read, [this] {
    // An idle connection hears only notices, parameter changes, or the server hanging up.
    if (PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK) {
      PQisBusy(conn_);  // parses what came in
      if (PQstatus(conn_) == CONNECTION_OK) return watch_step();
    }
    fail_operation(lost_error("PostgreSQL closed the connection"));
  });
}

void async_connection::stop_watch() {
  ++wait_ticket_;
  if (socket_) socket_->cancel();
  op_ = operation::none;
  lost_ = nullptr;
}

void async_connection::stop() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (op_ == operation::watching) {
    stop_watch();
  } else if (op_ != operation::none) {
    fail_operation(coded(sqlstate_connection_lost, "the PostgreSQL connection was closed"));
  }
  mark_broken();
  teardown();
}

void async_connection::teardown() {
  ++wait_ticket_;
  timer_.cancel();
  drop_socket();
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

// Asio waits on a duplicate of libpq's descriptor, ours alone. libpq closes its own whenever it
// likes (inside PQconnectPoll, when an attempt fails or moves to another host); releasing that
// number afterwards would epoll_ctl(DEL) whatever file it names by then (ThreadSanitizer saw it).
void async_connection::wrap_socket() {
  drop_socket();
  const int fd = PQsocket(conn_);
  const int own = fd >= 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
  if (own < 0) return;
  socket_.emplace(strand_, own);
  socket_fd_.store(own, std::memory_order_release);
}

void async_connection::drop_socket() {
  boost::system::error_code ignored;
  if (socket_) socket_->close(ignored);  // cancels its waits; the duplicate is closed once, here
  socket_.reset();
  socket_fd_.store(-1, std::memory_order_release);
}

void async_connection::wait(wait_type type, ready_handler ready) {
  const auto ticket = ++wait_ticket_;
  socket_->async_wait(type, [self = shared_from_this(), ticket, ready](const boost::system::error_code& ec) {
    self->on_wait_done(ticket, ec, ready);
  });
  look_once(type == wait_type::wait_read ? POLLIN : POLLOUT, std::move(ready));
}

void async_connection::wait_read_or_write(ready_handler ready) {
  const auto ticket = ++wait_ticket_;
  for (auto type : {wait_type::wait_read, wait_type::wait_write}) {
    socket_->async_wait(type, [self = shared_from_this(), ticket, ready](const boost::system::error_code& ec) {
      self->on_wait_done(ticket, ec, ready);
    });
  }
  look_once(POLLIN | POLLOUT, std::move(ready));
}

// Asio's epoll reactor is edge-triggered and a wait never tries speculatively: bytes libpq left in
// the socket before the wait was queued would never wake it. So, with the wait queued, look once.
void async_connection::look_once(short events, ready_handler ready) {
  pollfd probe{socket_->native_handle(), events, 0};
  if (::poll(&probe, 1, 0) <= 0 || probe.revents == 0) return;
  ++wait_ticket_;
  socket_->cancel();
  asio::post(strand_, [self = shared_from_this(), ticket = wait_ticket_, ready = std::move(ready)] {
    if (ticket == self->wait_ticket_) ready();
  });
}

void async_connection::on_wait_done(std::uint64_t ticket, const boost::system::error_code& ec,
                                    const ready_handler& ready) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (ticket != wait_ticket_) return;  // superseded: cancelled, or the other direction came first
  ++wait_ticket_;
  socket_->cancel();
  if (ec) return fail_operation(lost_error("waiting on the PostgreSQL socket: " + ec.message()));
  ready();
}

void async_connection::fail_operation(error e) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  ++wait_ticket_;
  if (socket_) socket_->cancel();
  switch (op_) {
    case operation::connecting: return finish_connect(std::move(e));
    case operation::executing: return fail_exec(std::move(e));
    case operation::watching: {
      op_ = operation::none;
      mark_broken();
      auto lost = std::move(lost_);
      return lost();
    }
    case operation::none: return;
  }
}

error async_connection::lost_error(const std::string& fallback) const {
  std::string message = conn_ ? trimmed(PQerrorMessage(conn_)) : "";
  return coded(sqlstate_connection_lost, message.empty() ? fallback : message);
}

void async_connection::mark_broken() {
  broken_.store(true, std::memory_order_release);
  state_.store(transaction_status::unknown, std::memory_order_release);
}

void async_connection::publish_state() {
  auto status = transaction_status::unknown;
  if (conn_ && !broken_) {
    switch (PQtransactionStatus(conn_)) {
      case PQTRANS_IDLE: status = transaction_status::idle; break;
      case PQTRANS_INTRANS: status = transaction_status::in_transaction; break;
      case PQTRANS_INERROR: status = transaction_status::in_error; break;
      default: break;
    }
  }
  state_.store(status, std::memory_order_release);
}

}  // namespace monolite::pg
