#include "replica/s3/store.hpp"

#include <algorithm>

#include "replica/s3/client.hpp"
#include "replica/s3/multipart.hpp"
#include "replica/s3/xml.hpp"

namespace monolite::replica {

namespace {

constexpr std::size_t max_keys_per_delete = 1000;  // DeleteObjects' limit

class s3_store final : public object_store {
 public:
  s3_store(s3_config config, std::shared_ptr<credentials_source> credentials)
      : client_(std::move(config), std::move(credentials)) {}

  std::string describe() const override { return config().describe(); }
  request_counts requests() const override { return client_.requests(); }

  store_result<void> put(const std::string& key, std::string_view bytes) override {
    const std::string object_key = config().object_key(key);
    if (bytes.size() > multipart_threshold) return put_multipart(client_, object_key, bytes);
    auto reply = client_.call({.method = "PUT", .object_key = object_key, .body = bytes});
    if (!reply) return reply.error();
    return {};
  }

  store_result<std::string> get(const std::string& key) override {
    auto reply = client_.call({.method = "GET", .object_key = config().object_key(key)});
    if (!reply) {
      if (reply.error().kind == store_failure::not_found)
        return store_error{store_failure::not_found, "no object " + key + " in " + describe()};
      return reply.error();
    }
    return std::move(reply->body);
  }

  // From `offset` on with a Range request; a resumed download that had all of the object already
  // is answered 416, which is no failure.
  store_result<void> get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) override {
    const s3_call call{.method = "GET", .object_key = config().object_key(key), .body_sink = &sink, .range_from = offset};
    auto reply = client_.call(call);
    if (reply) return {};
    if (reply.error().kind == store_failure::not_found)
      return store_error{store_failure::not_found, "no object " + key + " in " + describe()};
    if (offset > 0 && reply.error().message.find("HTTP 416") != std::string::npos) return {};
    return reply.error();
  }

  store_result<std::unique_ptr<object_writer>> begin_put(const std::string& key) override {
    return begin_multipart(client_, config().object_key(key));
  }

  store_result<std::vector<object_info>> list(const std::string& prefix) override {
    const std::string stripped = config().prefix.empty() ? "" : config().prefix + "/";
    std::vector<object_info> out;
    std::string token;
    do {
      auto page = list_page(config().object_key(prefix), token);
      if (!page) return page.error();
      for (auto& object : page->objects) {
        if (!object.key.starts_with(stripped)) continue;  // not ours: S3 honours the prefix, be sure anyway
        out.push_back({object.key.substr(stripped.size()), object.size});
      }
      token = page->truncated ? page->next_continuation_token : "";
    } while (!token.empty());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return out;
  }

  store_result<void> remove(const std::vector<std::string>& keys) override {
    for (std::size_t first = 0; first < keys.size(); first += max_keys_per_delete) {
      const std::size_t count = std::min(max_keys_per_delete, keys.size() - first);
      if (auto removed = delete_batch(keys.data() + first, count); !removed) return removed.error();
    }
    return {};
  }

 private:
  const s3_config& config() const { return client_.config(); }

  // One ListObjectsV2 page. Keys come URL-encoded so that any byte survives XML.
  store_result<replica::s3_xml::list_page> list_page(const std::string& full_prefix, const std::string& token) {
    s3_call call{.method = "GET",
                 .query = {{"list-type", "2"},
                           {"prefix", full_prefix},
                           {"encoding-type", "url"},
                           {"max-keys", std::to_string(config().max_keys)}}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    auto reply = client_.call(call);
    if (!reply) return reply.error();
    auto page = replica::s3_xml::parse_list_page(reply->body, true);
    if (!page) return store_error{store_failure::other, client_.describe_call(call) + "?list-type=2: malformed reply"};
    if (page->truncated && (page->next_continuation_token.empty() || page->next_continuation_token == token))
      return store_error{store_failure::other,
                         client_.describe_call(call) + "?list-type=2: truncated page without a new continuation token"};
    return std::move(*page);
  }

  store_result<void> delete_batch(const std::string* keys, std::size_t count) {
    std::string body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
    for (std::size_t i = 0; i < count; ++i)
      body += "<Object><Key>" + replica::s3_xml::escape(config().object_key(keys[i])) + "</Key></Object>";
    body += "</Delete>";
    const s3_call call{.method = "POST",
                       .query = {{"delete", ""}},
                       .headers = {{"Content-MD5", content_md5(body)}, {"Content-Type", "application/xml"}},
                       .body = body,
                       .error_possible_in_200 = true};
    auto reply = client_.call(call);
    if (!reply) return reply.error();
    const auto failures = replica::s3_xml::parse_delete_failures(reply->body);
    if (failures.empty()) return {};
    const auto& first = failures.front();
    std::string message = "cannot delete " + std::to_string(failures.size()) + " of " + std::to_string(count) +
                          " keys from " + describe() + ", e.g. " + first.key + ": " + first.code + ": " + first.message;
    return store_error{s3_failure_kind(0, first.code), std::move(message)};
  }

  s3_client client_;
};

}  // namespace

store_result<std::unique_ptr<object_store>> open_s3_store(std::string_view url) {
  auto config = parse_s3_url(url, region_from_environment());
  if (!config) return config.error();
  auto credentials = find_credentials();
  if (!credentials) return credentials.error();
  try {
    return std::unique_ptr<object_store>(new s3_store(std::move(*config), std::move(*credentials)));
  } catch (const std::exception& e) {  // OpenSSL could not set up a TLS context
    return store_error{store_failure::other, "cannot set up the s3 client: " + std::string(e.what())};
  }
}

}  // namespace monolite::replica
