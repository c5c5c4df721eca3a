// sigv4 — AWS Signature Version 4 for requests authenticated with an Authorization header. Pure
// computation (OpenSSL for SHA-256 and HMAC), no I/O, no clock: the caller passes the time.
//
// Paths are encoded the way S3 wants them: every segment percent-encoded once, '/' kept, no
// dot-segment or double-slash normalisation (S3 keys may contain "//" and "..").
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace monolite::replica::sigv4 {

struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

struct header {
  std::string name;  // any case; signing uses the lower-case form
  std::string value;
};

// A query parameter as the application means it, not yet percent-encoded.
using query_parameter = std::pair<std::string, std::string>;

// The parts of an HTTP request that are signed. `path` and `query` are raw (not encoded); the
// request must be sent with exactly canonical_uri(path) and canonical_query(query) as its target.
// Every header in `headers` is signed; Host must be one of them.
struct request {
  std::string method;
  std::string path = "/";
  std::vector<query_parameter> query;
  std::vector<header> headers;
  std::string payload_sha256;  // lower-case hex SHA-256 of the body
};

// The credential scope: date (YYYYMMDD) / region / service / aws4_request.
struct scope {
  std::string date;
  std::string region;
  std::string service;
};

// --- primitives ---
std::string hex(std::string_view bytes);
std::string sha256(std::string_view bytes);  // 32 raw bytes
std::string sha256_hex(std::string_view bytes);
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
// RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, every other byte
// becomes %XX (upper-case hex); '/' stays too when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);
// ISO 8601 basic format in UTC, as X-Amz-Date wants it: 20130524T000000Z.
std::string amz_date(std::chrono::system_clock::time_point time);

// --- the steps of the signing process, in order ---
std::string canonical_uri(std::string_view path);
std::string canonical_query(const std::vector<query_parameter>& query);
std::string canonical_headers(const std::vector<header>& headers);    // "name:value\n" lines, sorted
std::string signed_header_names(const std::vector<header>& headers);  // "host;x-amz-date"
std::string canonical_request(const request& req);
std::string credential_scope(const scope& s);
std::string string_to_sign(std::string_view amz_date, const scope& s, std::string_view canonical_request);
std::string signing_key(std::string_view secret_access_key, const scope& s);           // 32 raw bytes
std::string signature(std::string_view signing_key, std::string_view string_to_sign);  // hex
std::string authorization(std::string_view access_key_id, const scope& s, std::string_view signed_headers,
                          std::string_view signature);

// --- all of it ---
struct signing_options {
  std::string region;
  std::string service = "s3";
  // S3 wants the payload hash in X-Amz-Content-Sha256 as well; other services do not.
  bool content_sha256_header = true;
};

// Sets X-Amz-Date, X-Amz-Content-Sha256 (when asked) and X-Amz-Security-Token (when the credentials
// carry a session token) in req.headers, replacing earlier values, and returns the value of the
// Authorization header. `amz_date` is the request time as amz_date() formats it.
std::string sign(request& req, const credentials& creds, const signing_options& options, std::string_view amz_date);

}  // namespace monolite::replica::sigv4
