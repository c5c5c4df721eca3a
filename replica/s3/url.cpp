#include "replica/s3/url.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>

namespace monolite::replica {

namespace {

store_error bad_url(const std::string& why) { return {store_failure::bad_url, "bad s3 replica URL: " + why}; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query values follow form encoding ('+' is a space); the path does not.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += (plus_is_space && text[i] == '+') ? ' ' : text[i];
    }
  }
  return out;
}

bool all_of_charset(std::string_view text, std::string_view extra) {
  for (const char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && extra.find(c) == std::string_view::npos) return false;
  }
  return !text.empty();
}

std::optional<unsigned> parse_number(std::string_view text, unsigned low, unsigned high) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
    return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::nullopt;
}

// One name=value of the URL's query into `config`.
store_result<void> apply_parameter(s3_config& config, std::string_view name, const std::string& value,
                                   std::optional<bool>& path_style) {
  if (name == "endpoint") {
    auto endpoint = parse_endpoint(value);
    if (!endpoint) return endpoint.error();
    config.endpoint = std::move(*endpoint);
    config.endpoint_given = true;
  } else if (name == "region") {
    if (!all_of_charset(value, "-")) return bad_url("region '" + value + "' is not a region name");
    config.region = value;
  } else if (name == "force_path_style") {
    path_style = parse_bool(value);
    if (!path_style) return bad_url("force_path_style must be true or false");
  } else if (name == "max_keys") {
    const auto n = parse_number(value, 1, 1000);
    if (!n) return bad_url("max_keys must be 1-1000");
    config.max_keys = *n;
  } else if (name == "connect_timeout_ms" || name == "timeout_ms") {
    const auto n = parse_number(value, 1, 3'600'000);
    if (!n) return bad_url(std::string(name) + " must be 1-3600000");
    (name == "timeout_ms" ? config.request_timeout : config.connect_timeout) = std::chrono::milliseconds(*n);
  } else {
    return bad_url("unknown parameter '" + std::string(name) +
                   "' (known: endpoint, region, force_path_style, max_keys, connect_timeout_ms, timeout_ms)");
  }
  return {};
}

store_result<void> apply_query(s3_config& config, std::string_view query, std::optional<bool>& path_style) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string name = percent_decode(item.substr(0, eq), true);
    const std::string value = eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1), true);
    if (auto applied = apply_parameter(config, name, value, path_style); !applied) return applied.error();
  }
  return {};
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

std::string s3_endpoint::authority() const {
  const std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port = port == (tls ? "443" : "80");
  return default_port ? bracketed : bracketed + ":" + port;
}

std::string s3_endpoint::url() const { return (tls ? "https://" : "http://") + authority(); }

std::string s3_config::object_key(std::string_view key) const {
  return prefix.empty() ? std::string(key) : prefix + "/" + std::string(key);
}

std::string s3_config::host() const { return path_style ? endpoint.authority() : bucket + "." + endpoint.authority(); }

std::string s3_config::path(std::string_view key) const {
  if (!path_style) return "/" + std::string(key);
  return key.empty() ? "/" + bucket : "/" + bucket + "/" + std::string(key);
}

std::string s3_config::describe() const {
  std::string out = "s3://" + bucket + "/" + prefix + "?";
  if (endpoint_given) out += "endpoint=" + endpoint.url() + "&";
  return out + "region=" + region;
}

store_result<s3_config> parse_s3_url(std::string_view url, std::string_view default_region) {
  if (!url.starts_with("s3://")) return bad_url("want s3://bucket/prefix?...");
  url.remove_prefix(5);
  const auto question = url.find('?');
  const std::string_view location = url.substr(0, question);
  s3_config config;
  config.region = std::string(default_region);
  const auto slash = location.find('/');
  config.bucket = std::string(location.substr(0, slash));
  if (!all_of_charset(config.bucket, ".-_")) return bad_url("bucket name '" + config.bucket + "' is empty or invalid");
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : location.substr(slash + 1);
  while (prefix.starts_with('/'))
    prefix.remove_prefix(1);
  while (prefix.ends_with('/'))
    prefix.remove_suffix(1);
  config.prefix = percent_decode(prefix, false);
  std::optional<bool> path_style;
  if (question != std::string_view::npos) {
    if (auto applied = apply_query(config, url.substr(question + 1), path_style); !applied) return applied.error();
  }
  if (!config.endpoint_given) config.endpoint = {true, "s3." + config.region + ".amazonaws.com", "443"};
  config.path_style = path_style.value_or(config.endpoint_given);
  return config;
}

store_result<s3_endpoint> parse_endpoint(std::string_view text) {
  s3_endpoint e;
  if (text.starts_with("https://")) {
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    e.tls = false;
    text.remove_prefix(7);
  } else {
    return bad_url("endpoint must start with http:// or https://");
  }
  if (text.ends_with('/')) text.remove_suffix(1);
  if (text.find_first_of("/?#@") != std::string_view::npos)
    return bad_url("endpoint must be scheme://host[:port] (no path, no user info)");
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad_url("endpoint has an unterminated [IPv6 address]");
    e.host = std::string(text.substr(1, close - 1));
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return bad_url("endpoint has junk after the [IPv6 address]");
      port = text.substr(close + 2);
    }
  } else {
    const auto colon = text.rfind(':');
    e.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
  }
  if (!all_of_charset(e.host, ".-_:")) return bad_url("endpoint host '" + e.host + "' is not a host name or address");
  if (!port.empty() && !parse_number(port, 1, 65535))
    return bad_url("endpoint port '" + std::string(port) + "' is not 1-65535");
  e.port = port.empty() ? (e.tls ? "443" : "80") : std::string(port);
  return e;
}

std::string region_from_environment() {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto value = environment(name); !value.empty()) return value;
  }
  return "us-east-1";
}

}  // namespace monolite::replica
