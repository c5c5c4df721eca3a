// follow_client — a follower's calls to its primary: libSQL's `wal_log.ReplicationLog` over
// gRPC-web (Hello, BatchLogEntries, Snapshot) and plain HTTP requests passed through (forwarded
// writes). Blocking, on the caller's thread (s3_http underneath: keep-alive pool, deadlines).
// Thread-safe: several threads may call at once.
#pragma once
#include <boost/system/result.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/wal_log.hpp"
#include "replica/s3/http.hpp"

namespace monolite::replica {

enum class follow_failure {
  unreachable,      // refused, reset, timed out: try again later
  need_snapshot,    // the log no longer holds the frames asked for
  no_hello,         // the session is unknown (the primary restarted): Hello again
  unauthenticated,  // the token is missing or refused
  protocol          // an answer we cannot read
};

struct follow_error {
  follow_failure kind;
  std::string message;
};
template <class T>
using follow_result = boost::system::result<T, follow_error>;

// Handed each frame's data (header + page) of a Snapshot as it arrives; false stops the download.
using frame_sink = std::function<bool(std::string_view frame_data)>;

class follow_client {
 public:
  follow_client(s3_endpoint primary, std::string token);

  follow_result<proto::wal_log::hello_response> hello();
  // The frames' data from `next_offset` on (none: nothing new), under Hello's session.
  follow_result<std::vector<std::string>> batch(std::uint64_t next_offset);
  follow_result<void> snapshot(std::uint64_t next_offset, const frame_sink& sink);

  // One plain request passed to the primary as it is (any status is an answer).
  store_result<http_reply> forward(const http_request& request);
  const s3_endpoint& primary() const { return primary_; }
  const std::string& token() const { return token_; }

 private:
  follow_result<http_reply> call(std::string_view method, std::string_view message, const byte_sink* sink);

  s3_endpoint primary_;
  std::string token_;
  std::unique_ptr<s3_http> rpc_;      // the pull loop's connection
  std::unique_ptr<s3_http> forward_;  // forwarded requests (their own pool)
  std::mutex session_mutex_;
  std::string session_;  // Hello's token
};

// Splits a gRPC-web body into its messages as bytes arrive; the trailer's status at the end.
class grpc_web_reader {
 public:
  // Feeds bytes; `on_message` gets each complete data frame's message (false stops: returns false).
  bool feed(std::string_view bytes, const std::function<bool(std::string_view)>& on_message);
  bool saw_trailers() const { return trailers_seen_; }
  int status() const { return status_; }
  const std::string& message() const { return message_; }

 private:
  void read_trailers(std::string_view text);
  std::string pending_;
  bool trailers_seen_ = false;
  int status_ = -1;
  std::string message_;
};

}  // namespace monolite::replica
