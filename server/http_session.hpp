// One HTTP/1.1 connection: keep-alive, pipelining with a bounded queue of pending responses
// (reading pauses while it is full), idle timeout, header/body limits answered as JSON errors.
// Runs on one io_pool thread (its io_context is its strand); actors post replies back there.
// Responses leave in request order.
// Timeouts come from one watchdog timer per connection that checks the time of the last activity,
// rather than a timer armed around every read and write.
// A streamed response (response::stream) holds the front of the queue from its head to its last
// chunk; the responses behind it wait. Each written piece and each delivered one is activity, so a
// stream lives as long as it keeps delivering; one silent past the idle timeout is cancelled and its
// connection closed (as is a client that stops reading for the write timeout).
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include "server/responses.hpp"

namespace monolite::server {

struct server_context;

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  // `home` is the index of the io_pool thread the socket lives on (and of its preferred reader).
  http_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx, std::size_t home);
  ~http_session();
  void run();
  // Thread-safe: stop reading new requests, answer the pending ones, then close. A connection
  // waiting for a request stays open up to drain_idle for one already on its way.
  void finish();

 private:
  struct pending {
    std::optional<response> res;
    std::string path;  // for metrics
    bool keep_alive = true;
    std::chrono::steady_clock::time_point received{};  // for metrics (and the access log)
    bool head = false;                                 // a HEAD request: headers only
    bool chunked = true;        // HTTP/1.1 or later; an HTTP/1.0 client reads a streamed body until close
    bool stream_open = false;   // its head is written; its pieces are being written
    bool stream_ended = false;  // its stream was cancelled or failed: never call it again
    // For --access-log only.
    std::string method{};
    std::string client{};
  };

  void read_next();
  void on_read(boost::beast::error_code ec);
  void on_read_error(boost::beast::error_code ec);
  void dispatch(request&& req);
  void answer_now(response res);
  void write_next();
  void on_write(boost::beast::error_code ec, std::size_t answered, bool keep_alive);
  void after_answer(bool keep_alive);
  void record(const pending& slot);  // metrics and the access log, once per answered request
  void request_piece();
  void on_piece(std::uint64_t call, piece_result delivered);
  void write_piece(pending& slot, piece delivered);
  void on_piece_written(boost::beast::error_code ec, bool last);
  void cancel_streams();
  void stop_stream(pending& slot);
  void close();
  void discard_until_eof();
  void final_close();
  void watch();
  bool nothing_received();  // no byte of a next request has arrived
  void touch() { last_activity_ = std::chrono::steady_clock::now(); }
  void log_access(const pending& slot) const;

  static constexpr std::size_t max_pipelined = 16;
  static constexpr std::uint32_t header_limit = 16 * 1024;
  static constexpr std::chrono::milliseconds drain_idle{250};
  static constexpr std::chrono::milliseconds drain_tick{10};

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer watchdog_;
  std::chrono::steady_clock::time_point last_activity_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<std::shared_ptr<pending>> queue_;
  std::string wire_;              // the responses being written: every ready one at the queue's front, in order
  std::string piece_;             // the bytes of the streamed piece being written (after its size line in wire_)
  std::string piece_tail_;        // what follows them: CRLF, the terminating chunk
  std::uint64_t piece_call_ = 0;  // which next() the awaited piece answers (a stale deliver is ignored)
  bool awaiting_piece_ = false;
  bool streams_cancelled_ = false;  // closing or shutting down: no stream may run on this connection any more
  server_context& ctx_;
  std::size_t home_;
  boost::asio::ip::address peer_;  // the connection's remote address (--access-log, distinct clients)
  bool reading_ = false;
  bool writing_ = false;
  bool stop_reading_ = false;  // no more requests on this connection
  bool closed_ = false;
  bool linger_on_close_ = false;  // we refused input the client may still be sending
  bool lingering_ = false;
  bool draining_ = false;  // shutting down while waiting for a request (finish())
  std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace monolite::server
