// s3_http — a blocking HTTP/1.1 client for one endpoint (plain TCP or TLS), made for the S3 store:
// keep-alive connections in a small pool, a deadline on every step, one retry on a stale pooled
// connection. Knows nothing of S3 or signatures.
//
// Thread safety: send() may be called from several threads at once; each call takes a connection
// of its own (from the pool or new) and runs it on that connection's private io_context, because
// Beast's stream timeouts only apply to asynchronous operations.
// Failures (refused, reset, DNS, TLS, timeout, a malformed reply) are store_failure::unreachable.
#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replica/object_store.hpp"
#include "replica/s3/url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace monolite::replica {

struct s3_connection;  // one kept-alive connection with its private io_context (s3_http.cpp)

struct http_request {
  std::string method;  // "GET", "PUT", …
  std::string target;  // already percent-encoded path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // must stay valid during send()
  // When set, a 2xx reply's body goes here piece by piece as it arrives (http_reply::body stays
  // empty) and the request timeout bounds each piece rather than the whole reply.
  const byte_sink* body_sink = nullptr;
  // The first byte asked for with a Range header: a server that ignores it answers 200 with the
  // whole body, whose leading bytes are then dropped so the sink sees the same bytes as after a 206.
  std::uint64_t range_from = 0;
};

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::string etag;  // the ETag header, quotes included
  std::vector<std::pair<std::string, std::string>> headers{};  // every header, names lower-cased
};

struct http_timeouts {
  std::chrono::milliseconds connect{10'000};  // resolve + connect + TLS handshake
  std::chrono::milliseconds request{60'000};  // write the request, read the whole reply
};

class s3_http {
 public:
  static constexpr std::size_t max_idle_connections = 8;
  // A pooled connection idle this long is closed rather than reused: servers drop idle ones
  // (S3 after about 20 s) and a fresh connection is cheaper than a failed attempt.
  static constexpr std::chrono::seconds max_idle_time{15};

  s3_http(s3_endpoint endpoint, http_timeouts timeouts);
  ~s3_http();
  s3_http(const s3_http&) = delete;
  s3_http& operator=(const s3_http&) = delete;

  // One request and its whole reply. Any HTTP status is a reply; only transport failures are errors.
  store_result<http_reply> send(const http_request& request);

  // For tests: connections opened so far, and how many sit idle in the pool.
  std::size_t connections_opened() const;
  std::size_t idle_connections() const;

 private:
  struct attempt_result;

  store_result<std::unique_ptr<s3_connection>> open_connection();
  std::unique_ptr<s3_connection> take_idle();
  void give_back(std::unique_ptr<s3_connection> conn);
  attempt_result attempt(s3_connection& conn, const http_request& request);
  attempt_result read_reply(s3_connection& conn, const http_request& request);
  store_error unreachable(std::string_view step, std::string_view detail) const;

  s3_endpoint endpoint_;
  http_timeouts timeouts_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<s3_connection>> idle_;
  std::size_t opened_ = 0;
};

}  // namespace monolite::replica
