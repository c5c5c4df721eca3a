// The s3:// URL: defaults, endpoints, addressing style, knobs, refusals; and the S3 error mapping.
#include "replica/s3/url.hpp"

#include <boost/test/unit_test.hpp>

#include "replica/s3/client.hpp"

using namespace monolite::replica;

namespace {

s3_config parse(std::string_view url) {
  auto config = parse_s3_url(url, "eu-west-1");
  BOOST_REQUIRE_MESSAGE(config.has_value(), config.error().message);
  return *config;
}

std::string refusal(std::string_view url) {
  auto config = parse_s3_url(url, "us-east-1");
  BOOST_REQUIRE(config.has_error());
  BOOST_TEST((config.error().kind == store_failure::bad_url));
  return config.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replica_s3_url)

BOOST_AUTO_TEST_CASE(aws_defaults) {
  const auto c = parse("s3://my-bucket/backups/app/");
  BOOST_TEST(c.bucket == "my-bucket");
  BOOST_TEST(c.prefix == "backups/app");
  BOOST_TEST(c.region == "eu-west-1");
  BOOST_TEST(c.endpoint.url() == "https://s3.eu-west-1.amazonaws.com");
  BOOST_TEST(!c.path_style);
  BOOST_TEST(c.host() == "my-bucket.s3.eu-west-1.amazonaws.com");
  BOOST_TEST(c.path(c.object_key("a b")) == "/backups/app/a b");
  BOOST_TEST(c.path("") == "/");
  BOOST_TEST(c.max_keys == 1000u);
  BOOST_TEST(c.connect_timeout.count() == 10000);
  BOOST_TEST(c.request_timeout.count() == 60000);
  BOOST_TEST(c.describe() == "s3://my-bucket/backups/app?region=eu-west-1");
}

BOOST_AUTO_TEST_CASE(custom_endpoint_means_path_style) {
  const auto c = parse("s3://b/p?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=us-west-2&max_keys=7&timeout_ms=500");
  BOOST_TEST(!c.endpoint.tls);
  BOOST_TEST(c.endpoint.host == "127.0.0.1");
  BOOST_TEST(c.endpoint.port == "9000");
  BOOST_TEST(c.region == "us-west-2");
  BOOST_TEST(c.path_style);
  BOOST_TEST(c.host() == "127.0.0.1:9000");
  BOOST_TEST(c.path(c.object_key("k")) == "/b/p/k");
  BOOST_TEST(c.path("") == "/b");
  BOOST_TEST(c.max_keys == 7u);
  BOOST_TEST(c.request_timeout.count() == 500);
  BOOST_TEST(c.describe() == "s3://b/p?endpoint=http://127.0.0.1:9000&region=us-west-2");
}

BOOST_AUTO_TEST_CASE(endpoint_forms) {
  BOOST_TEST(parse("s3://b?endpoint=https://minio.local/").endpoint.authority() == "minio.local");
  BOOST_TEST(parse("s3://b?endpoint=https://minio.local:443").endpoint.authority() == "minio.local");
  BOOST_TEST(parse("s3://b?endpoint=http://[::1]:9000").endpoint.authority() == "[::1]:9000");
  BOOST_TEST(parse("s3://b?endpoint=http://[::1]:9000").endpoint.host == "::1");
  const auto virtual_hosted = parse("s3://b?endpoint=https://storage.example:8443&force_path_style=false");
  BOOST_TEST(virtual_hosted.host() == "b.storage.example:8443");
  BOOST_TEST(parse("s3://b?force_path_style=true").host() == "s3.eu-west-1.amazonaws.com");
}

BOOST_AUTO_TEST_CASE(empty_prefix_keeps_keys_as_they_are) {
  const auto c = parse("s3://b");
  BOOST_TEST(c.prefix == "");
  BOOST_TEST(c.object_key("x/y") == "x/y");
  BOOST_TEST(parse("s3://b/").prefix == "");
  BOOST_TEST(parse("s3://b//a+b%20c//").prefix == "a+b c");
}

BOOST_AUTO_TEST_CASE(refusals_say_what_is_wrong) {
  BOOST_TEST(refusal("s3:///prefix").find("bucket") != std::string::npos);
  BOOST_TEST(refusal("s3://b?endpont=http://x").find("unknown parameter 'endpont'") != std::string::npos);
  BOOST_TEST(refusal("s3://b?endpoint=ftp://x").find("http://") != std::string::npos);
  BOOST_TEST(refusal("s3://b?endpoint=http://x:99999").find("port") != std::string::npos);
  BOOST_TEST(refusal("s3://b?endpoint=http://user:pw@x").find("user info") != std::string::npos);
  BOOST_TEST(refusal("s3://b?endpoint=http://x/path").find("no path") != std::string::npos);
  BOOST_TEST(refusal("s3://b?max_keys=0").find("max_keys") != std::string::npos);
  BOOST_TEST(refusal("s3://b?max_keys=1001").find("max_keys") != std::string::npos);
  BOOST_TEST(refusal("s3://b?force_path_style=yes").find("force_path_style") != std::string::npos);
  BOOST_TEST(refusal("s3://b?region=eu%0d%0aX: y").find("region") != std::string::npos);
  BOOST_TEST(refusal("s3://b?timeout_ms=-1").find("timeout_ms") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(error_replies_map_to_kinds) {
  const auto c = parse("s3://b/p?endpoint=http://127.0.0.1:9000");
  const auto error = [&](unsigned status, std::string code, std::string message = "m") {
    const std::string body =
        code.empty() ? "" : "<Error><Code>" + code + "</Code><Message>" + message + "</Message></Error>";
    return s3_reply_error({status, body, {}}, "GET s3://b/p/k", c);
  };
  BOOST_TEST((error(404, "NoSuchKey").kind == store_failure::not_found));
  BOOST_TEST((error(404, "").kind == store_failure::not_found));
  const auto signature = error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match");
  BOOST_TEST((signature.kind == store_failure::denied));
  BOOST_TEST(signature.message ==
             "GET s3://b/p/k: HTTP 403 SignatureDoesNotMatch: The request signature we "
             "calculated does not match (check AWS_SECRET_ACCESS_KEY)");
  BOOST_TEST((error(403, "InvalidAccessKeyId").kind == store_failure::denied));
  BOOST_TEST((error(403, "AccessDenied").kind == store_failure::denied));
  BOOST_TEST((error(400, "ExpiredToken").kind == store_failure::denied));
  BOOST_TEST((error(503, "SlowDown").kind == store_failure::server));
  BOOST_TEST((error(500, "InternalError").kind == store_failure::server));
  BOOST_TEST((error(502, "").kind == store_failure::server));
  BOOST_TEST((error(400, "InvalidArgument").kind == store_failure::other));
  const auto bucket = error(404, "NoSuchBucket", "The specified bucket does not exist");
  BOOST_TEST((bucket.kind == store_failure::bad_url));
  BOOST_TEST(bucket.message.find("bucket 'b' does not exist at http://127.0.0.1:9000") == 0u, bucket.message);
}

BOOST_AUTO_TEST_CASE(content_md5_is_base64_of_the_digest) {
  BOOST_TEST(content_md5("") == "1B2M2Y8AsgTpgAmY7PhCfg==");
  BOOST_TEST(content_md5("The quick brown fox jumps over the lazy dog") == "nhB9nTcrtoJr2B01QqQZ1g==");
}

BOOST_AUTO_TEST_SUITE_END()
