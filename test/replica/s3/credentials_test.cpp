#include "replica/s3/credentials.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

#include "common/clock.hpp"
#include "replica/format/layout.hpp"
#include "replica/s3/fake_http_server.hpp"
#include "support/temp_dir.hpp"

using namespace monolite;
using namespace monolite::replica;

namespace {

// Sets the AWS_* variables a test names and clears the others; puts everything back at the end.
class scoped_environment {
 public:
  using values_t = std::map<std::string, std::string>;
  explicit scoped_environment(const values_t& values) {
    for (const char* name :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE",
          "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "HOME"}) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      ::unsetenv(name);
    }
    for (const auto& [name, value] : values)
      ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~scoped_environment() {
    for (const auto& [name, value] : saved_)
      value ? ::setenv(name.c_str(), value->c_str(), 1) : ::unsetenv(name.c_str());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

std::string credentials_reply(const std::string& key, std::int64_t expires_ms) {
  const std::string body = R"({"AccessKeyId":")" + key +
                           R"(","SecretAccessKey":"s3cr3t","Token":"tok","Expiration":")" +
                           layout::rfc3339_time(expires_ms) + R"("})";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(s3_credentials)

BOOST_AUTO_TEST_CASE(shared_file_profiles) {
  const std::string text =
      "# a comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=secretdefault\r\n\n"
      "; another\n[ prod ]\n  aws_access_key_id = AKIDPROD  \naws_secret_access_key = secretprod\n"
      "aws_session_token = tokenprod\n[half]\naws_access_key_id = AKIDHALF\n";
  auto def = parse_shared_credentials(text, "default", "/f").value();
  BOOST_TEST(def.access_key_id == "AKIDDEFAULT");
  BOOST_TEST(def.secret_access_key == "secretdefault");
  BOOST_TEST(def.session_token.empty());
  auto prod = parse_shared_credentials(text, "prod", "/f").value();
  BOOST_TEST(prod.access_key_id == "AKIDPROD");
  BOOST_TEST(prod.session_token == "tokenprod");
  auto missing = parse_shared_credentials(text, "staging", "/f");
  BOOST_REQUIRE(missing.has_error());
  BOOST_TEST(missing.error().message.find("no profile [staging]") != std::string::npos);
  auto half = parse_shared_credentials(text, "half", "/f");
  BOOST_REQUIRE(half.has_error());
  BOOST_TEST(half.error().message.find("aws_secret_access_key") != std::string::npos);
  BOOST_TEST(half.error().message.find("AKIDHALF") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(container_replies) {
  auto good = parse_container_credentials(
      R"({"AccessKeyId":"AKID","SecretAccessKey":"s","Token":"t","Expiration":"2026-12-01T10:00:00Z"})");
  BOOST_REQUIRE(good.has_value());
  BOOST_TEST(good->keys.session_token == "t");
  BOOST_TEST(good->expires_ms == *layout::parse_rfc3339("2026-12-01T10:00:00Z"));
  BOOST_TEST(parse_container_credentials(R"({"AccessKeyId":"AKID","SecretAccessKey":"s"})")->expires_ms == 0);
  for (const char* bad : {"", "not json", "[]", R"({"AccessKeyId":"AKID"})",
                          R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"})"})
    BOOST_TEST(parse_container_credentials(bad).has_error(), bad);
}

BOOST_AUTO_TEST_CASE(the_first_configured_source_is_used) {
  test::temp_dir dir;
  const auto file = dir.file("credentials");
  std::ofstream(file) << "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = secretfile\n"
                         "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = secretother\n";
  {
    scoped_environment env(scoped_environment::values_t{
        {"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "e"}, {"AWS_SHARED_CREDENTIALS_FILE", file}});
    BOOST_TEST(find_credentials().value()->current().value().access_key_id == "AKIDENV");
  }
  {
    scoped_environment env(
        scoped_environment::values_t{{"AWS_SHARED_CREDENTIALS_FILE", file}, {"AWS_PROFILE", "other"}});
    auto source = find_credentials().value();
    BOOST_TEST(source->current().value().access_key_id == "AKIDOTHER");
    BOOST_TEST(source->describe().find("[other]") != std::string::npos);
  }
  {
    scoped_environment env(scoped_environment::values_t{{"HOME", dir.path()}});  // no ~/.aws/credentials there
    BOOST_TEST(find_credentials().has_error());
  }
  {
    scoped_environment env(scoped_environment::values_t{{"AWS_SHARED_CREDENTIALS_FILE", dir.file("absent")}});
    BOOST_TEST(find_credentials().has_error());  // named but missing: an error, not another source
  }
  {
    scoped_environment env(scoped_environment::values_t{{"AWS_ACCESS_KEY_ID", "AKIDENV"}});
    BOOST_TEST(find_credentials().has_error());
  }
}

BOOST_AUTO_TEST_CASE(container_keys_are_cached_and_fetched_again_before_they_expire) {
  std::atomic<std::int64_t> expires{now_ms() + 3600 * 1000};
  std::string authorization;
  test::fake_http_server server([&](const std::string& head, const std::string&) {
    if (head.find("Authorization: Bearer xyz") != std::string::npos) authorization = "seen";
    return credentials_reply("AKID" + std::to_string(expires.load()), expires.load());
  });
  scoped_environment env(scoped_environment::values_t{
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:" + server.port() + "/creds"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer xyz"}});
  auto source = find_credentials().value();
  const auto first = source->current().value();
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(source->current().value().access_key_id == first.access_key_id);
  BOOST_TEST(server.requests() == 1);  // an hour left: cached
  BOOST_TEST(authorization == "seen");
  BOOST_TEST(server.heads().front().find("GET /creds ") == 0u);
  expires = now_ms() + 60 * 1000;  // keys that expire within refresh_before are fetched again
  source = find_credentials().value();
  BOOST_TEST(source->current().has_value());
  BOOST_TEST(source->current().has_value());
  BOOST_TEST(server.requests() == 3);
}

BOOST_AUTO_TEST_CASE(an_unreachable_container_endpoint_is_an_error) {
  scoped_environment env(
      scoped_environment::values_t{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds"}});
  auto source = find_credentials().value();
  auto keys = source->current();
  BOOST_REQUIRE(keys.has_error());
  BOOST_TEST((keys.error().kind == store_failure::unreachable));
}

BOOST_AUTO_TEST_SUITE_END()
