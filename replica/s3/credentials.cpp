#include "replica/s3/credentials.hpp"

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/clock.hpp"
#include "replica/format/layout.hpp"
#include "replica/s3/http.hpp"
#include "replica/s3/url.hpp"

namespace monolite::replica {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

store_error no_credentials(std::string why) { return {store_failure::bad_url, std::move(why)}; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

store_result<std::string> read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return no_credentials(std::string("cannot read the ") + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class fixed_source final : public credentials_source {
 public:
  fixed_source(sigv4::credentials keys, std::string description)
      : keys_(std::move(keys)), description_(std::move(description)) {}
  store_result<sigv4::credentials> current() override { return keys_; }
  std::string describe() const override { return description_; }

 private:
  sigv4::credentials keys_;
  std::string description_;
};

// Keys from the container credentials endpoint, cached until `refresh_before` their expiry.
class container_source final : public credentials_source {
 public:
  container_source(s3_endpoint endpoint, std::string target, std::string token, std::string token_file)
      : host_(endpoint.authority()),
        http_(std::move(endpoint), {std::chrono::seconds(2), std::chrono::seconds(5)}),
        target_(std::move(target)),
        token_(std::move(token)),
        token_file_(std::move(token_file)) {}

  store_result<sigv4::credentials> current() override {
    std::lock_guard lock(mutex_);
    const bool fresh = cached_ && (cached_->expires_ms == 0 ||
                                   now_ms() + std::chrono::milliseconds(refresh_before).count() < cached_->expires_ms);
    if (fresh) return cached_->keys;
    auto fetched = fetch();
    if (fetched) {
      cached_ = std::move(*fetched);
      return cached_->keys;
    }
    // Keys that are still valid serve while the endpoint is down.
    if (cached_ && now_ms() < cached_->expires_ms) return cached_->keys;
    return fetched.error();
  }
  std::string describe() const override { return "container credentials " + host_ + target_; }

 private:
  store_result<expiring_credentials> fetch() {
    http_request request{"GET", target_, {{"Host", host_}, {"Accept", "application/json"}}, {}};
    std::string token = token_;
    if (!token_file_.empty()) {
      auto text = read_text_file(token_file_, "container authorization token file");
      if (!text) return text.error();
      token = std::string(trim(*text));
      while (!token.empty() && token.back() == '\n')
        token.pop_back();
    }
    if (!token.empty()) request.headers.emplace_back("Authorization", token);
    auto reply = http_.send(request);
    if (!reply) return store_error{store_failure::unreachable, "container credentials: " + reply.error().message};
    if (reply->status != 200)
      return store_error{reply->status >= 500 ? store_failure::server : store_failure::denied,
                         "container credentials: HTTP " + std::to_string(reply->status)};
    return parse_container_credentials(reply->body);
  }

  std::string host_;
  s3_http http_;
  std::string target_, token_, token_file_;
  std::mutex mutex_;
  std::optional<expiring_credentials> cached_;
};

store_result<std::shared_ptr<credentials_source>> container_credentials(const std::string& full_uri,
                                                                        const std::string& relative_uri) {
  const std::string uri = !full_uri.empty() ? full_uri : "http://169.254.170.2" + relative_uri;
  const auto scheme_end = uri.find("://");
  const auto path_start = scheme_end == std::string::npos ? std::string::npos : uri.find('/', scheme_end + 3);
  auto endpoint = parse_endpoint(path_start == std::string::npos ? uri : uri.substr(0, path_start));
  if (!endpoint) return no_credentials("AWS_CONTAINER_CREDENTIALS_FULL_URI '" + uri + "': " + endpoint.error().message);
  const std::string target = path_start == std::string::npos ? "/" : uri.substr(path_start);
  std::shared_ptr<credentials_source> source =
      std::make_shared<container_source>(std::move(*endpoint), target, environment("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                                         environment("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
  return source;
}

store_result<std::shared_ptr<credentials_source>> shared_file_credentials(std::string path) {
  const std::string profile = environment("AWS_PROFILE").empty() ? "default" : environment("AWS_PROFILE");
  auto text = read_text_file(path, "shared credentials file");
  if (!text) return text.error();
  auto keys = parse_shared_credentials(*text, profile, path);
  if (!keys) return keys.error();
  return fixed_credentials(std::move(*keys), "shared credentials file " + path + " [" + profile + "]");
}

}  // namespace

std::shared_ptr<credentials_source> fixed_credentials(sigv4::credentials keys, std::string description) {
  return std::make_shared<fixed_source>(std::move(keys), std::move(description));
}

store_result<sigv4::credentials> parse_shared_credentials(std::string_view text, std::string_view profile,
                                                          std::string_view path) {
  sigv4::credentials keys;
  bool in_profile = false, found = false;
  for (std::size_t start = 0; start <= text.size();) {
    const auto end = std::min(text.find('\n', start), text.size());
    const auto line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = trim(line.substr(1, line.size() - 2)) == profile;
      found = found || in_profile;
      continue;
    }
    const auto eq = line.find('=');
    if (!in_profile || eq == std::string_view::npos) continue;
    const auto key = trim(line.substr(0, eq));
    const auto value = std::string(trim(line.substr(eq + 1)));
    if (key == "aws_access_key_id") keys.access_key_id = value;
    if (key == "aws_secret_access_key") keys.secret_access_key = value;
    if (key == "aws_session_token") keys.session_token = value;
  }
  const std::string where = std::string(path) + " [" + std::string(profile) + "]";
  if (!found)
    return no_credentials("the shared credentials file " + std::string(path) + " has no profile [" +
                          std::string(profile) + "]");
  if (keys.access_key_id.empty() || keys.secret_access_key.empty())
    return no_credentials("the shared credentials file " + where +
                          " needs aws_access_key_id and aws_secret_access_key");
  return keys;
}

store_result<expiring_credentials> parse_container_credentials(std::string_view json) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(json, ec);
  const auto* object = ec ? nullptr : value.if_object();
  auto text = [&](const char* key) -> std::string {
    const auto* v = object ? object->if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  expiring_credentials out{{text("AccessKeyId"), text("SecretAccessKey"), text("Token")}, 0};
  if (out.keys.access_key_id.empty() || out.keys.secret_access_key.empty())
    return store_error{store_failure::other, "container credentials: the reply has no AccessKeyId/SecretAccessKey"};
  if (const auto expiration = text("Expiration"); !expiration.empty()) {
    const auto ms = layout::parse_rfc3339(expiration);
    if (!ms) return store_error{store_failure::other, "container credentials: bad Expiration '" + expiration + "'"};
    out.expires_ms = *ms;
  }
  return out;
}

store_result<std::shared_ptr<credentials_source>> find_credentials() {
  sigv4::credentials env{environment("AWS_ACCESS_KEY_ID"), environment("AWS_SECRET_ACCESS_KEY"),
                         environment("AWS_SESSION_TOKEN")};
  if (!env.access_key_id.empty() || !env.secret_access_key.empty()) {
    if (env.access_key_id.empty() || env.secret_access_key.empty())
      return no_credentials("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
    return fixed_credentials(std::move(env), "environment");
  }
  std::string file = environment("AWS_SHARED_CREDENTIALS_FILE");
  const bool file_named = !file.empty();
  if (!file_named && !environment("HOME").empty()) file = environment("HOME") + "/.aws/credentials";
  std::ifstream probe(file);
  if (file_named || (!file.empty() && probe)) return shared_file_credentials(file);
  const auto full = environment("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  const auto relative = environment("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  if (!full.empty() || !relative.empty()) return container_credentials(full, relative);
  return no_credentials(
      "an s3 replica needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), "
      "or AWS_SHARED_CREDENTIALS_FILE/AWS_PROFILE, or AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

}  // namespace monolite::replica
