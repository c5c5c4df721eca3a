// s3_client — one signed S3 call: builds the request for the bucket or an object (path-style or
// virtual-hosted), signs it with SigV4 (real payload hash), sends it through s3_http and turns S3's
// error replies into store_error values. Thread-safe, like s3_http.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "replica/s3/credentials.hpp"
#include "replica/s3/http.hpp"
#include "replica/s3/sigv4.hpp"
#include "replica/s3/url.hpp"

namespace monolite::replica {

// Written with designated initializers; every member has a default.
struct s3_call {
  std::string method{};
  std::string object_key{};  // the full key; empty for a call on the bucket itself
  std::vector<replica::sigv4::query_parameter> query{};
  std::vector<replica::sigv4::header> headers{};  // signed, besides the ones SigV4 adds
  std::string_view body{};
  const byte_sink* body_sink = nullptr;  // a 2xx reply's body goes here as it arrives (http_request)
  std::uint64_t range_from = 0;          // sends "Range: bytes=<this>-" when not 0
  // CompleteMultipartUpload may answer 200 and still fail, with an <Error> document as its body.
  bool error_possible_in_200 = false;
};

class s3_client {
 public:
  s3_client(s3_config config, std::shared_ptr<credentials_source> credentials);

  const s3_config& config() const { return config_; }
  s3_http& http() { return http_; }

  // The reply of a successful (2xx) call; any other reply as the store_error it stands for.
  store_result<http_reply> call(const s3_call& call);

  request_counts requests() const { return counts_.snapshot(); }

  // "GET s3://bucket/key", for messages.
  std::string describe_call(const s3_call& call) const;

 private:
  store_result<http_request> signed_request(const s3_call& call) const;

  s3_config config_;
  std::shared_ptr<credentials_source> credentials_;
  request_counter counts_;
  s3_http http_;
};

// The failure an S3 reply stands for: its status and <Error><Code>/<Message>, mapped to a kind
// (404/NoSuchKey: not_found; 401/403 and credential codes: denied; 5xx/SlowDown: server;
// NoSuchBucket: bad_url, since the URL names a bucket that does not exist; else other).
// The message names the call, the status, S3's code and message: never a credential.
store_error s3_reply_error(const http_reply& reply, std::string_view call, const s3_config& config);
// The kind alone, from the HTTP status (0 when there is none) and S3's error code.
store_failure s3_failure_kind(unsigned status, std::string_view code);

// base64 of the body's MD5, for Content-MD5 (DeleteObjects requires it).
std::string content_md5(std::string_view bytes);

}  // namespace monolite::replica
