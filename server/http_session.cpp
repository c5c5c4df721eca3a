#include "server/http_session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "common/log.hpp"
#include "server/forwarded.hpp"
#include "server/server_context.hpp"

namespace monolite::server {
namespace beast = boost::beast;
namespace asio = boost::asio;

namespace {

constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto linger_timeout = std::chrono::seconds(5);

proto::api_error parse_failure(beast::error_code ec) {
  if (ec == http::error::body_limit) return {413, "BODY_TOO_LARGE", "the request body exceeds --max-body"};
  if (ec == http::error::header_limit) return {431, "HEADERS_TOO_LARGE", "the request headers exceed 16 KiB"};
  return {400, "BAD_REQUEST", "malformed HTTP request: " + ec.message()};
}

std::chrono::steady_clock::duration watch_interval(std::chrono::milliseconds idle_timeout) {
  return std::clamp<std::chrono::steady_clock::duration>(idle_timeout / 4, std::chrono::milliseconds(50),
                                                         std::chrono::seconds(1));
}

bool is_disconnect(beast::error_code ec) {
  return ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor || ec == asio::error::connection_reset || ec == asio::error::eof ||
         ec == http::error::partial_message;
}

}  // namespace

http_session::http_session(asio::ip::tcp::socket&& socket, server_context& ctx, std::size_t home)
    : socket_(std::move(socket)), watchdog_(socket_.get_executor()), ctx_(ctx), home_(home) {
  beast::error_code ec;
  peer_ = socket_.remote_endpoint(ec).address();
}

http_session::~http_session() { ctx_.sessions.remove(this); }

void http_session::run() {
  ctx_.sessions.add(shared_from_this(), peer_);
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    self->touch();
    self->watch();
    self->read_next();
  });
  // Accepted after shutdown began (the listener closes asynchronously, after the open sessions
  // were told to finish): this one finishes too, once it has answered what its client sent.
  if (ctx_.draining.load(std::memory_order_acquire)) finish();
}

// Closes the socket when the connection has been silent too long for its state; the pending read
// or write then fails and the normal close path runs.
void http_session::watch() {
  watchdog_.expires_after(draining_ ? drain_tick : watch_interval(ctx_.settings.idle_timeout));
  watchdog_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->socket_.is_open()) return;
    // Draining with nothing to answer and nothing arriving: the connection has had its chance.
    if (self->draining_ && self->reading_ && self->queue_.empty() && !self->writing_ &&
        std::chrono::steady_clock::now() >= self->drain_deadline_ && self->nothing_received())
      return self->close();
    const auto limit = self->lingering_ ? std::chrono::steady_clock::duration(linger_timeout)
                       : self->writing_ ? std::chrono::steady_clock::duration(write_timeout)
                                        : std::chrono::steady_clock::duration(self->ctx_.settings.idle_timeout);
    if (std::chrono::steady_clock::now() - self->last_activity_ > limit) return self->final_close();
    self->watch();
  });
}

void http_session::finish() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->stop_reading_ = true;
    // A stream may run for hours: shutdown cuts it (the client sees a truncated body), and the
    // connection closes there; responses queued behind a cut stream are not written.
    self->cancel_streams();
    if (self->awaiting_piece_) return self->close();
    if (!self->reading_) {
      if (self->queue_.empty() && !self->writing_) self->close();
      return;
    }
    // Waiting for a request: keep reading for drain_idle. A proxy that pooled this connection may
    // be sending a request on it right now; closing at once would drop that request unanswered,
    // and a proxy may not resend a POST it has already sent. What arrives is answered with
    // `Connection: close`; the watchdog closes the connection if nothing does.
    self->draining_ = true;
    self->drain_deadline_ = std::chrono::steady_clock::now() + drain_idle;
    self->watch();
  });
}

bool http_session::nothing_received() {
  beast::error_code ec;
  const auto waiting = socket_.available(ec);
  return !ec && waiting == 0 && buffer_.size() == 0 && !(parser_ && parser_->got_some());
}

void http_session::read_next() {
  if (stop_reading_ || reading_ || closed_ || queue_.size() >= max_pipelined) return;
  reading_ = true;
  parser_.emplace();
  parser_->body_limit(ctx_.settings.max_body);
  parser_->header_limit(header_limit);
  touch();
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void http_session::on_read(beast::error_code ec) {
  reading_ = false;
  touch();
  if (ec) return on_read_error(ec);
  auto req = parser_->release();
  if (!req.keep_alive()) stop_reading_ = true;
  dispatch(std::move(req));
  read_next();
}

void http_session::on_read_error(beast::error_code ec) {
  stop_reading_ = true;
  if (is_disconnect(ec)) {
    // A reset peer reads nothing more (a stream to it would run until a write failed).
    if ((queue_.empty() && !writing_) || ec == asio::error::connection_reset) close();
    return;
  }
  // Malformed or oversized input: answer it as JSON, then close (the rest of the stream is unreadable).
  auto error = parse_failure(ec);
  linger_on_close_ = true;
  log::debug("bad request", {{"code", error.code}, {"detail", ec.message()}});
  queue_.push_back(std::make_shared<pending>(pending{std::nullopt, "other", false}));
  queue_.back()->received = std::chrono::steady_clock::now();
  answer_now(error_response(error));
}

void http_session::dispatch(request&& req) {
  std::string_view target = req.target();
  auto slot = std::make_shared<pending>(
      pending{std::nullopt, std::string(target.substr(0, target.find('?'))), req.keep_alive()});
  slot->received = std::chrono::steady_clock::now();
  slot->head = req.method() == http::verb::head;
  slot->chunked = req.version() >= 11;
  if (ctx_.settings.access_log) {
    slot->method = std::string(req.method_string());
    slot->client = client_address(peer_, req["X-Forwarded-For"], ctx_.settings.trusted_proxies).to_string();
  }
  queue_.push_back(slot);
  auto self = shared_from_this();
  responder respond{socket_.get_executor(), home_, [self, slot](response res) {
                      slot->res = std::move(res);
                      if (slot->res->stream && self->streams_cancelled_) self->stop_stream(*slot);
                      self->write_next();
                    }};
  try {
    ctx_.routes.dispatch(std::move(req), std::move(respond));
  } catch (const std::exception& e) {
    // A route handler that throws is a bug confined to its request (common/fatal.hpp): answer it
    // 500 and close, unless it answered before throwing.
    log::error("exception in a route handler", {{"path", slot->path}, {"error", e.what()}});
    if (slot->res) return;
    slot->keep_alive = false;
    slot->res = error_response({500, "INTERNAL", "internal error"});
    write_next();
  }
}

void http_session::answer_now(response res) {
  queue_.back()->res = std::move(res);
  write_next();
}

void http_session::write_next() {
  if (writing_ || closed_ || queue_.empty() || !queue_.front()->res || queue_.front()->stream_open) return;
  // Every response that is ready at the front goes out in one write, up to and including the head
  // of a streamed one; their slots stay queued until the write completes.
  wire_.clear();
  std::size_t answered = 0;
  bool keep_alive = true;
  while (keep_alive && answered < queue_.size() && queue_[answered]->res) {
    auto& slot = *queue_[answered];
    if (slot.res->stream && slot.stream_ended) break;  // cancelled before it began: the connection ends here
    // The last response of a connection that takes no more requests says so.
    // While draining, a connection whose client has sent nothing more ends here too.
    const bool last =
        stop_reading_ && (!reading_ || (draining_ && nothing_received())) && answered + 1 == queue_.size();
    keep_alive = slot.keep_alive && !last;
    if (slot.res->stream && !slot.head) {
      keep_alive = keep_alive && slot.chunked;  // an HTTP/1.0 client learns the body's end from the close
      slot.keep_alive = keep_alive;
      slot.stream_open = true;
      append_stream_head(wire_, *slot.res, keep_alive, slot.chunked);
      break;
    }
    if (slot.res->stream) {
      append_stream_head(wire_, *slot.res, keep_alive, slot.chunked);
      stop_stream(slot);
    } else {
      append_wire(wire_, *slot.res, keep_alive, slot.head);
    }
    record(slot);
    ++answered;
  }
  if (wire_.empty()) return close();
  writing_ = true;
  touch();
  asio::async_write(socket_, asio::buffer(wire_),
                    [self = shared_from_this(), answered, keep_alive](beast::error_code ec, std::size_t) {
                      self->on_write(ec, answered, keep_alive);
                    });
}

void http_session::on_write(beast::error_code ec, std::size_t answered, bool keep_alive) {
  writing_ = false;
  touch();
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(answered));
  if (ec) return close();
  if (!queue_.empty() && queue_.front()->stream_open) return request_piece();
  after_answer(keep_alive);
}

void http_session::after_answer(bool keep_alive) {
  if (!keep_alive) return close();
  if (stop_reading_ && queue_.empty() && !reading_) return close();
  write_next();
  read_next();
}

void http_session::record(const pending& slot) {
  ctx_.metrics.record(slot.path, slot.res->status, std::chrono::steady_clock::now() - slot.received);
  if (ctx_.settings.access_log) log_access(slot);
}

// Asks the stream at the front for its next piece; its deliver comes back through the strand and
// holds the session weakly (a producer that keeps it must not keep a closed connection alive).
void http_session::request_piece() {
  if (streams_cancelled_) return close();
  awaiting_piece_ = true;
  const auto call = ++piece_call_;
  auto deliver = [weak = weak_from_this(), call, executor = socket_.get_executor()](piece_result delivered) {
    auto self = weak.lock();
    if (!self) return;
    asio::post(executor, [self = std::move(self), call, delivered = std::move(delivered)]() mutable {
      self->on_piece(call, std::move(delivered));
    });
  };
  queue_.front()->res->stream->next(std::move(deliver));
}

void http_session::on_piece(std::uint64_t call, piece_result delivered) {
  if (closed_ || !awaiting_piece_ || call != piece_call_) return;
  awaiting_piece_ = false;
  touch();
  if (streams_cancelled_) return close();
  auto& slot = *queue_.front();
  if (!delivered) {
    log::warn("a streamed body failed", {{"path", slot.path}, {"error", delivered.error().message()}});
    slot.stream_ended = true;
    record(slot);
    return close();
  }
  if (delivered->bytes.empty() && !delivered->last) return request_piece();
  write_piece(slot, std::move(*delivered));
}

// One piece as one chunk (its bytes are not copied), or raw for an HTTP/1.0 client.
void http_session::write_piece(pending& slot, piece delivered) {
  wire_.clear();
  piece_tail_.clear();
  piece_ = std::move(delivered.bytes);
  if (slot.chunked && !piece_.empty()) {
    append_chunk_size(wire_, piece_.size());
    piece_tail_.append("\r\n");
  }
  if (slot.chunked && delivered.last) append_last_chunk(piece_tail_, delivered.trailers);
  writing_ = true;
  touch();
  const std::array buffers{asio::buffer(wire_), asio::buffer(piece_), asio::buffer(piece_tail_)};
  asio::async_write(socket_, buffers,
                    [self = shared_from_this(), last = delivered.last](beast::error_code ec, std::size_t) {
                      self->on_piece_written(ec, last);
                    });
}

void http_session::on_piece_written(beast::error_code ec, bool last) {
  writing_ = false;
  touch();
  if (ec) return close();
  if (!last) return request_piece();
  piece_ = std::string();  // do not keep the last piece's memory for the connection's life
  const auto slot = queue_.front();
  queue_.pop_front();
  if (!slot->stream_ended) record(*slot);  // else it was counted when shutdown cut it
  after_answer(slot->keep_alive);
}

// Closing or shutting down: every stream still in the queue is told to stop, and no other may start.
void http_session::cancel_streams() {
  streams_cancelled_ = true;
  for (const auto& slot : queue_)
    if (slot->res && slot->res->stream) stop_stream(*slot);
}

void http_session::stop_stream(pending& slot) {
  if (slot.stream_ended) return;
  slot.stream_ended = true;
  if (slot.stream_open) record(slot);  // its head went out: it counts, cut short
  slot.res->stream->cancel();
}

// One line per answered request; never the query string, a header value or a body.
void http_session::log_access(const pending& slot) const {
  boost::json::object fields{{"method", slot.method.empty() ? "-" : slot.method},
                             {"path", slot.path},
                             {"status", slot.res->status},
                             {"client", slot.client.empty() ? peer_.to_string() : slot.client}};
  if (slot.received != std::chrono::steady_clock::time_point{})
    fields["us"] =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - slot.received).count();
  if (!slot.client.empty() && slot.client != peer_.to_string()) fields["proxy"] = peer_.to_string();
  log::info("request", std::move(fields));
}

void http_session::close() {
  if (closed_) return;
  closed_ = true;
  cancel_streams();
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec || !linger_on_close_) return final_close();
  // Lingering close: read and drop what the client still sends (say, the rest of a body we refused),
  // so the kernel does not reset the connection before the client has read our answer.
  lingering_ = true;
  touch();
  buffer_.clear();
  discard_until_eof();
}

void http_session::discard_until_eof() {
  socket_.async_read_some(buffer_.prepare(64 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->final_close();
    self->discard_until_eof();
  });
}

void http_session::final_close() {
  cancel_streams();
  beast::error_code ignored;
  socket_.close(ignored);
  watchdog_.cancel();
}

}  // namespace monolite::server
