#include "replica/s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace monolite::replica::sigv4 {

namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Header values are signed trimmed, with each run of spaces inside collapsed to one.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// Lower-case names, sorted; a name given twice becomes one entry with the values joined by ','.
std::vector<header> normalized_headers(const std::vector<header>& headers) {
  std::vector<header> sorted;
  for (const auto& h : headers)
    sorted.push_back({lower(h.name), canonical_header_value(h.value)});
  std::stable_sort(sorted.begin(), sorted.end(), [](const header& a, const header& b) { return a.name < b.name; });
  std::vector<header> merged;
  for (auto& h : sorted) {
    if (!merged.empty() && merged.back().name == h.name) {
      merged.back().value += ',' + h.value;
    } else {
      merged.push_back(std::move(h));
    }
  }
  return merged;
}

void set_header(std::vector<header>& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const header& h) { return lower(h.name) == name; });
  headers.push_back({std::string(name), std::move(value)});
}

}  // namespace

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0f];
  }
  return out;
}

std::string sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string sha256_hex(std::string_view bytes) { return hex(sha256(bytes)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const unsigned char c : text) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0x0f];
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string canonical_uri(std::string_view path) {
  if (path.empty()) return "/";
  return uri_encode(path, true);
}

std::string canonical_query(const std::vector<query_parameter>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [name, value] : query)
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + '=' + value;
  }
  return out;
}

std::string canonical_headers(const std::vector<header>& headers) {
  std::string out;
  for (const auto& h : normalized_headers(headers))
    out += h.name + ':' + h.value + '\n';
  return out;
}

std::string signed_header_names(const std::vector<header>& headers) {
  std::string out;
  for (const auto& h : normalized_headers(headers)) {
    if (!out.empty()) out += ';';
    out += h.name;
  }
  return out;
}

std::string canonical_request(const request& req) {
  return req.method + '\n' + canonical_uri(req.path) + '\n' + canonical_query(req.query) + '\n' +
         canonical_headers(req.headers) + '\n' + signed_header_names(req.headers) + '\n' + req.payload_sha256;
}

std::string credential_scope(const scope& s) { return s.date + '/' + s.region + '/' + s.service + "/aws4_request"; }

std::string string_to_sign(std::string_view amz_date, const scope& s, std::string_view canonical_request) {
  return std::string(algorithm) + '\n' + std::string(amz_date) + '\n' + credential_scope(s) + '\n' +
         sha256_hex(canonical_request);
}

std::string signing_key(std::string_view secret_access_key, const scope& s) {
  const std::string date_key = hmac_sha256("AWS4" + std::string(secret_access_key), s.date);
  const std::string region_key = hmac_sha256(date_key, s.region);
  const std::string service_key = hmac_sha256(region_key, s.service);
  return hmac_sha256(service_key, "aws4_request");
}

std::string signature(std::string_view signing_key, std::string_view string_to_sign) {
  return hex(hmac_sha256(signing_key, string_to_sign));
}

std::string authorization(std::string_view access_key_id, const scope& s, std::string_view signed_headers,
                          std::string_view signature) {
  return std::string(algorithm) + " Credential=" + std::string(access_key_id) + '/' + credential_scope(s) +
         ", SignedHeaders=" + std::string(signed_headers) + ", Signature=" + std::string(signature);
}

std::string sign(request& req, const credentials& creds, const signing_options& options, std::string_view amz_date) {
  set_header(req.headers, "x-amz-date", std::string(amz_date));
  if (options.content_sha256_header) set_header(req.headers, "x-amz-content-sha256", req.payload_sha256);
  if (!creds.session_token.empty()) set_header(req.headers, "x-amz-security-token", creds.session_token);
  const scope s{std::string(amz_date.substr(0, 8)), options.region, options.service};
  const std::string to_sign = string_to_sign(amz_date, s, canonical_request(req));
  const std::string sig = signature(signing_key(creds.secret_access_key, s), to_sign);
  return authorization(creds.access_key_id, s, signed_header_names(req.headers), sig);
}

}  // namespace monolite::replica::sigv4
