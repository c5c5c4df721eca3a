#include "replica/follow_client.hpp"

#include <cstdlib>

#include "proto/grpc_web.hpp"

namespace monolite::replica {
namespace wal_log = proto::wal_log;
namespace {

constexpr int grpc_failed_precondition = 9;
constexpr int grpc_unauthenticated = 16;
constexpr int grpc_permission_denied = 7;

std::string header_of(const http_reply& reply, std::string_view name) {
  for (const auto& [n, v] : reply.headers)
    if (n == name) return v;
  return {};
}

follow_error grpc_failure(int status, const std::string& message) {
  if (status == grpc_failed_precondition && message == wal_log::need_snapshot)
    return {follow_failure::need_snapshot, message};
  if (status == grpc_failed_precondition && message == wal_log::no_hello) return {follow_failure::no_hello, message};
  if (status == grpc_unauthenticated || status == grpc_permission_denied)
    return {follow_failure::unauthenticated, "the primary refused the token: " + message};
  return {follow_failure::protocol, "the primary answered grpc-status " + std::to_string(status) + ": " + message};
}

std::string request_body(std::string_view message) {
  std::string body;
  proto::grpc_web::append_message(body, message);
  return body;
}

// The one message of a unary answer, or its error.
follow_result<std::string> unary_message(const http_reply& reply) {
  grpc_web_reader reader;
  std::string message;
  int messages = 0;
  reader.feed(reply.body, [&](std::string_view m) {
    message.assign(m), ++messages;
    return true;
  });
  if (reader.saw_trailers() && reader.status() != 0) return grpc_failure(reader.status(), reader.message());
  if (messages != 1) return follow_error{follow_failure::protocol, "a unary answer without exactly one message"};
  return message;
}

}  // namespace

bool grpc_web_reader::feed(std::string_view bytes, const std::function<bool(std::string_view)>& on_message) {
  pending_.append(bytes);
  std::size_t at = 0;
  while (pending_.size() - at >= 5) {
    const auto* p = reinterpret_cast<const unsigned char*>(pending_.data() + at);
    const std::size_t size = (std::size_t{p[1]} << 24) | (std::size_t{p[2]} << 16) | (std::size_t{p[3]} << 8) | p[4];
    if (pending_.size() - at - 5 < size) break;
    const std::string_view body(pending_.data() + at + 5, size);
    if (p[0] & 0x80) {
      read_trailers(body);
    } else if (!on_message(body)) {
      return false;
    }
    at += 5 + size;
  }
  pending_.erase(0, at);
  return true;
}

void grpc_web_reader::read_trailers(std::string_view text) {
  trailers_seen_ = true;
  while (!text.empty()) {
    const auto end = text.find("\r\n");
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
    if (name == "grpc-status") status_ = std::atoi(std::string(value).c_str());
    if (name == "grpc-message") message_ = std::string(value);
  }
}

follow_client::follow_client(s3_endpoint primary, std::string token)
    : primary_(std::move(primary)),
      token_(std::move(token)),
      rpc_(std::make_unique<s3_http>(primary_, http_timeouts{std::chrono::seconds(5), std::chrono::seconds(30)})),
      forward_(std::make_unique<s3_http>(primary_, http_timeouts{std::chrono::seconds(5), std::chrono::seconds(60)})) {}

follow_result<http_reply> follow_client::call(std::string_view method, std::string_view message,
                                              const byte_sink* sink) {
  const std::string body = request_body(message);
  http_request request{"POST", "/wal_log.ReplicationLog/" + std::string(method), {}, body, sink};
  request.headers = {{"Host", primary_.authority()}, {"Content-Type", "application/grpc-web"}};
  if (!token_.empty()) request.headers.emplace_back("x-authorization", "Bearer " + token_);
  {
    std::lock_guard lock(session_mutex_);
    if (!session_.empty()) request.headers.emplace_back(std::string(wal_log::session_header), session_);
  }
  auto reply = rpc_->send(request);
  if (!reply) return follow_error{follow_failure::unreachable, reply.error().message};
  if (reply->status == 401 || reply->status == 403)
    return follow_error{follow_failure::unauthenticated, "the primary answered " + std::to_string(reply->status)};
  if (reply->status != 200)
    return follow_error{follow_failure::protocol, "the primary answered HTTP " + std::to_string(reply->status)};
  // Trailers-only: the status comes as headers, the body is empty.
  if (auto status = header_of(*reply, "grpc-status"); !status.empty() && status != "0")
    return grpc_failure(std::atoi(status.c_str()), header_of(*reply, "grpc-message"));
  return std::move(*reply);
}

follow_result<wal_log::hello_response> follow_client::hello() {
  auto reply = call("Hello", std::string("\x08\x01", 2), nullptr);
  if (!reply) return reply.error();
  auto message = unary_message(*reply);
  if (!message) return message.error();
  auto hello = wal_log::decode_hello(*message);
  if (!hello) return follow_error{follow_failure::protocol, "bad HelloResponse: " + hello.error().message};
  std::lock_guard lock(session_mutex_);
  session_ = hello->session_token;
  return std::move(*hello);
}

follow_result<std::vector<std::string>> follow_client::batch(std::uint64_t next_offset) {
  auto reply = call("BatchLogEntries", wal_log::encode_offset(next_offset), nullptr);
  if (!reply) return reply.error();
  auto message = unary_message(*reply);
  if (!message) return message.error();
  auto frames = wal_log::decode_frames(*message);
  if (!frames) return follow_error{follow_failure::protocol, "bad Frames: " + frames.error().message};
  return std::vector<std::string>(frames->begin(), frames->end());
}

follow_result<void> follow_client::snapshot(std::uint64_t next_offset, const frame_sink& sink) {
  grpc_web_reader reader;
  std::string bad;
  const byte_sink body_sink = [&](std::string_view bytes) {
    return reader.feed(bytes, [&](std::string_view message) {
      auto data = wal_log::decode_frame_message(message);
      if (!data) return bad = "bad Frame: " + data.error().message, false;
      return sink(*data);
    });
  };
  auto reply = call("Snapshot", wal_log::encode_offset(next_offset), &body_sink);
  if (!bad.empty()) return follow_error{follow_failure::protocol, bad};
  if (!reply) return reply.error();
  if (!reader.saw_trailers()) return follow_error{follow_failure::unreachable, "the snapshot ended early"};
  if (reader.status() != 0) return grpc_failure(reader.status(), reader.message());
  return {};
}

store_result<http_reply> follow_client::forward(const http_request& request) { return forward_->send(request); }

}  // namespace monolite::replica
