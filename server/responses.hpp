// HTTP responses as we send them: a status, a content type, a few extra headers and a body,
// written to the wire by hand (one buffer per write; cheaper than a generic serializer).
// A body too large or too slow to build whole is streamed instead: see body_stream.
// Requests stay Beast messages. Every failure goes out in the JSON error shape.
#pragma once
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/result.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/error.hpp"

namespace monolite::server {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;

// One piece of a streamed body. `last` ends the body; the trailers of the last piece go out as
// trailer fields after the terminating chunk (HTTP/1.1 only; an HTTP/1.0 client never sees them).
struct piece {
  std::string bytes;  // may be empty: nothing is written for it, and the next piece is asked for
  bool last = false;
  std::vector<std::pair<std::string, std::string>> trailers{};
};
// A failed piece ends the connection without the terminating chunk: the client sees a truncated body.
using piece_result = boost::system::result<piece>;
// Thread-safe; call it exactly once per next(). It only posts the piece to the session's strand.
using piece_handler = std::function<void(piece_result)>;

// Produces a streamed body. The session calls next() on its strand, once the previous piece has been
// written (so at most one piece is outstanding: that is the backpressure), until a piece is `last` or
// failed. cancel() (on the strand, at most once, never after the body ended) says the client is gone,
// stalled past the idle timeout, or the server is shutting down: stop working. A deliver still called
// after cancel() is ignored, as is one after the session is gone. next() must not throw. The stream is
// destroyed with the session's last reference to it (without cancel() if the server's threads stop first).
class body_stream {
 public:
  virtual ~body_stream() = default;
  virtual void next(piece_handler deliver) = 0;
  virtual void cancel() {}
};

struct response {
  unsigned status = 200;
  std::string_view content_type = "application/json";             // always a literal
  std::vector<std::pair<std::string_view, std::string>> headers;  // extra ones, e.g. Retry-After
  std::string body;
  // When set, the body comes from here (chunked; raw then close for HTTP/1.0) and `body` is unused.
  std::shared_ptr<body_stream> stream = nullptr;

  void set(std::string_view name, std::string value) { headers.emplace_back(name, std::move(value)); }
};

response json_response(unsigned status, std::string body);
response streamed_response(unsigned status, std::shared_ptr<body_stream> stream, std::string_view content_type);
response text_response(unsigned status, std::string body, std::string_view content_type);
// {"error": {"code", "message"}} with the error's status (and Retry-After when it carries one).
response error_response(const proto::api_error& error);

// 415 UNSUPPORTED_MEDIA_TYPE unless the body is JSON: it says so, or says nothing at all.
std::optional<response> reject_unless_json(const request& req);

// Appends the HTTP/1.1 form of `res` to `out`, with Content-Length and the connection's fate;
// without the body when answering HEAD.
void append_wire(std::string& out, const response& res, bool keep_alive, bool head = false);

// The head of a streamed response: `Transfer-Encoding: chunked`, or (HTTP/1.0) no length at all,
// the body then ending with the connection.
void append_stream_head(std::string& out, const response& res, bool keep_alive, bool chunked);
// What goes before a chunk's bytes (its size line) and after them (CRLF).
void append_chunk_size(std::string& out, std::size_t size);
// The terminating chunk, with trailer fields if any.
void append_last_chunk(std::string& out, const std::vector<std::pair<std::string, std::string>>& trailers);

}  // namespace monolite::server
