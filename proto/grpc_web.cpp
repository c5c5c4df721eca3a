#include "proto/grpc_web.hpp"

namespace monolite::proto::grpc_web {
namespace {

void append_frame(std::string& out, unsigned char flag, std::string_view payload) {
  const auto size = static_cast<std::uint32_t>(payload.size());
  out.push_back(static_cast<char>(flag));
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((size >> shift) & 0xff));
  out.append(payload);
}

// grpc-message is percent-encoded (gRPC's HTTP/2 spec); our messages are plain ASCII mostly.
std::string percent_encoded(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

result<std::string_view> request_message(std::string_view body) {
  if (body.size() < 5) return bad_request("a gRPC-web request body starts with a 5-byte frame header");
  const auto flag = static_cast<unsigned char>(body[0]);
  if (flag != 0) return bad_request("gRPC-web: compressed or trailer frames are not accepted in a request");
  std::uint32_t size = 0;
  for (int i = 1; i <= 4; ++i)
    size = (size << 8) | static_cast<unsigned char>(body[i]);
  if (body.size() != 5 + std::size_t(size)) return bad_request("gRPC-web: the request must hold exactly one message");
  return body.substr(5);
}

void append_message(std::string& out, std::string_view message) { append_frame(out, 0x00, message); }

void append_trailers(std::string& out, status code, std::string_view message) {
  std::string text = "grpc-status:" + std::to_string(static_cast<int>(code)) + "\r\n";
  if (!message.empty()) text += "grpc-message:" + percent_encoded(message) + "\r\n";
  append_frame(out, 0x80, text);
}

}  // namespace monolite::proto::grpc_web
