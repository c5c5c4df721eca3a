// s3_url — what an s3:// replica URL means: bucket, key prefix, endpoint, region, addressing style
// and the client's tuning knobs. Pure parsing, no I/O. Credentials: replica/s3/credentials.hpp.
//
//   s3://BUCKET[/PREFIX][?endpoint=http(s)://host[:port]][&region=R][&force_path_style=true|false]
//                        [&max_keys=N][&connect_timeout_ms=N][&timeout_ms=N]
//
// endpoint            default https://s3.REGION.amazonaws.com
// region              default AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1
// force_path_style    default false on AWS (bucket.s3.REGION.amazonaws.com), true with an endpoint
// max_keys            keys per ListObjectsV2 page, 1–1000 (default 1000; small values are for tests)
// connect_timeout_ms  resolve + connect + TLS handshake (default 10000)
// timeout_ms          one request, from sending it to the last byte of the reply (default 60000)
// Query values may be percent-encoded. Unknown parameters are refused, so a typo is not ignored.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "replica/object_store.hpp"
#include "replica/s3/sigv4.hpp"

namespace monolite::replica {

struct s3_endpoint {
  bool tls = true;
  std::string host;  // name or address, without brackets
  std::string port;  // always set ("443", "80" or the URL's)
  // host[:port] as a URL and a Host header write it; the port is left out when it is the default.
  std::string authority() const;
  std::string url() const;  // scheme://authority
};

struct s3_config {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty
  s3_endpoint endpoint;
  bool endpoint_given = false;
  std::string region;
  bool path_style = false;
  unsigned max_keys = 1000;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};

  // The full object key of `key` (relative to the prefix).
  std::string object_key(std::string_view key) const;
  // Host header and request path of an object (or of the bucket when `object_key` is empty).
  std::string host() const;
  std::string path(std::string_view object_key) const;
  // s3://bucket/prefix, with endpoint and region when they matter; never a credential.
  std::string describe() const;
};

// `default_region` is what applies when the URL names none (the caller reads AWS_REGION…).
store_result<s3_config> parse_s3_url(std::string_view url, std::string_view default_region);

// The region default from AWS_REGION / AWS_DEFAULT_REGION, else us-east-1.
std::string region_from_environment();

// http(s)://host[:port][/], host possibly a bracketed IPv6 address.
store_result<s3_endpoint> parse_endpoint(std::string_view text);

}  // namespace monolite::replica
