#include "replica/s3/client.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "proto/base64.hpp"
#include "replica/s3/xml.hpp"

namespace monolite::replica {

namespace {

bool one_of(std::string_view code, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// What to look at first, for the failures an operator can fix.
std::string hint(std::string_view code) {
  if (code == "SignatureDoesNotMatch") return " (check AWS_SECRET_ACCESS_KEY)";
  if (code == "InvalidAccessKeyId") return " (check AWS_ACCESS_KEY_ID)";
  if (code == "InvalidToken" || code == "ExpiredToken") return " (check AWS_SESSION_TOKEN)";
  if (code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect") return " (check the region)";
  return "";
}

}  // namespace

store_failure s3_failure_kind(unsigned status, std::string_view code) {
  if (code == "NoSuchBucket") return store_failure::bad_url;
  if (status == 404 || code == "NoSuchKey") return store_failure::not_found;
  if (status == 401 || status == 403 ||
      one_of(code, {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "InvalidToken", "ExpiredToken",
                    "TokenRefreshRequired", "InvalidSecurity"}))
    return store_failure::denied;
  if (status >= 500 || one_of(code, {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout"}))
    return store_failure::server;
  return store_failure::other;
}

store_error s3_reply_error(const http_reply& reply, std::string_view call, const s3_config& config) {
  const auto error = replica::s3_xml::parse_error(reply.body);
  const std::string code = error ? error->code : "";
  const store_failure kind = s3_failure_kind(reply.status, code);
  std::string text = std::string(call) + ": HTTP " + std::to_string(reply.status);
  if (!code.empty()) text += " " + code;
  if (error && !error->message.empty()) text += ": " + error->message;
  text += hint(code);
  if (code == "NoSuchBucket")
    text =
        "bucket '" + config.bucket + "' does not exist at " + config.endpoint.url() + " (NoSuchBucket; " + text + ")";
  return {kind, std::move(text)};
}

std::string content_md5(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_md5(), nullptr);
  return proto::base64_encode(std::vector<unsigned char>(digest.begin(), digest.begin() + length));
}

s3_client::s3_client(s3_config config, std::shared_ptr<credentials_source> credentials)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      http_(config_.endpoint, {config_.connect_timeout, config_.request_timeout}) {}

std::string s3_client::describe_call(const s3_call& call) const {
  return call.method + " s3://" + config_.bucket + "/" + call.object_key;
}

store_result<http_request> s3_client::signed_request(const s3_call& call) const {
  auto keys = credentials_->current();
  if (!keys) return keys.error();
  sigv4::request req{call.method, config_.path(call.object_key), call.query, call.headers,
                     sigv4::sha256_hex(call.body)};
  req.headers.push_back({"Host", config_.host()});
  const std::string authorization =
      sigv4::sign(req, *keys, {config_.region, "s3", true}, sigv4::amz_date(std::chrono::system_clock::now()));
  http_request out{call.method, sigv4::canonical_uri(req.path), {}, call.body, call.body_sink, call.range_from};
  if (call.range_from > 0) out.headers.emplace_back("Range", "bytes=" + std::to_string(call.range_from) + "-");
  if (!req.query.empty()) out.target += "?" + sigv4::canonical_query(req.query);
  for (auto& h : req.headers)
    out.headers.emplace_back(std::move(h.name), std::move(h.value));
  out.headers.emplace_back("Authorization", authorization);
  out.headers.emplace_back("User-Agent", "monolite");
  return out;
}

namespace {
request_counter::kind kind_of(const s3_call& call) {
  auto has = [&](std::string_view name) {
    return std::any_of(call.query.begin(), call.query.end(), [&](const auto& q) { return q.first == name; });
  };
  if (call.method == "GET") return has("list-type") ? request_counter::kind::list : request_counter::kind::get;
  if (call.method == "PUT") return request_counter::kind::put;
  if (call.method == "POST" && has("delete")) return request_counter::kind::remove;
  return request_counter::kind::multipart;  // POST ?uploads / ?uploadId, DELETE ?uploadId
}
}  // namespace

store_result<http_reply> s3_client::call(const s3_call& call) {
  counts_.count(kind_of(call));
  auto request = signed_request(call);
  if (!request) return request.error();
  auto reply = http_.send(*request);
  if (!reply) return reply.error();
  const bool ok = reply->status >= 200 && reply->status < 300;
  if (ok && !(call.error_possible_in_200 && replica::s3_xml::parse_error(reply->body))) return reply;
  return s3_reply_error(*reply, describe_call(call), config_);
}

}  // namespace monolite::replica
