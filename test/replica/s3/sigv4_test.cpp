// The SigV4 signer against published vectors: the AWS Signature Version 4 test suite
// (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service") and the worked
// examples of the S3 API reference ("Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk": AKIAIOSFODNN7EXAMPLE, 2013-05-24, examplebucket).
#include "replica/s3/sigv4.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite::replica::sigv4;

namespace {

const std::string empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const credentials suite_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const std::string suite_date = "20150830T123600Z";
const std::string suite_host = "example.amazonaws.com";

const credentials s3_credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const std::string s3_date = "20130524T000000Z";
const std::string s3_host = "examplebucket.s3.amazonaws.com";

struct signed_request {
  request req;  // after sign(): with the headers it added
  std::string authorization;
};

// The suite signs for a generic service: no X-Amz-Content-Sha256 header.
signed_request sign_suite(std::string method, std::string path, std::vector<query_parameter> query = {},
                          std::vector<header> headers = {}, std::string_view body = "",
                          const credentials& creds = suite_credentials) {
  headers.insert(headers.begin(), {"Host", suite_host});
  request req{std::move(method), std::move(path), std::move(query), std::move(headers), sha256_hex(body)};
  const std::string auth = sign(req, creds, {"us-east-1", "service", false}, suite_date);
  return {std::move(req), auth};
}

signed_request sign_s3(std::string method, std::string path, std::vector<query_parameter> query = {},
                       std::vector<header> headers = {}, std::string_view body = "") {
  headers.insert(headers.begin(), {"Host", s3_host});
  request req{std::move(method), std::move(path), std::move(query), std::move(headers), sha256_hex(body)};
  const std::string auth = sign(req, s3_credentials, {"us-east-1", "s3", true}, s3_date);
  return {std::move(req), auth};
}

std::string signature_of(const std::string& authorization) {
  const auto at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

std::string suite_authorization(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proto_sigv4)

BOOST_AUTO_TEST_CASE(primitives) {
  BOOST_TEST(sha256_hex("") == empty_sha256);
  BOOST_TEST(sha256_hex("Welcome to Amazon S3.") == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  // RFC 4231 test case 2.
  BOOST_TEST(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  BOOST_TEST(amz_date(std::chrono::system_clock::from_time_t(1369353600)) == "20130524T000000Z");
  BOOST_TEST(amz_date(std::chrono::system_clock::from_time_t(1709251199)) == "20240229T235959Z");
}

BOOST_AUTO_TEST_CASE(signing_key_of_the_aws_derivation_example) {
  // "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
  const std::string key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", {"20120215", "us-east-1", "iam"});
  BOOST_TEST(hex(key) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

BOOST_AUTO_TEST_CASE(uri_encoding_follows_s3_rules) {
  BOOST_TEST(uri_encode("-._~AZaz09", false) == "-._~AZaz09");
  BOOST_TEST(uri_encode("a b+c/d$e=f&g%h", false) == "a%20b%2Bc%2Fd%24e%3Df%26g%25h");
  BOOST_TEST(uri_encode("a b/c", true) == "a%20b/c");
  BOOST_TEST(uri_encode("\xc3\xbc", true) == "%C3%BC");
  // Each segment once, '/' kept, nothing normalised: S3 keys may hold "//" and "..".
  BOOST_TEST(canonical_uri("/bucket/a//b/../c d") == "/bucket/a//b/../c%20d");
  BOOST_TEST(canonical_uri("") == "/");
  BOOST_TEST(canonical_query({{"prefix", "a/b c"}, {"list-type", "2"}, {"uploads", ""}}) ==
             "list-type=2&prefix=a%2Fb%20c&uploads=");
}

BOOST_AUTO_TEST_CASE(suite_get_vanilla) {
  const auto s = sign_suite("GET", "/");
  BOOST_TEST(canonical_request(s.req) ==
             "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + empty_sha256);
  BOOST_TEST(sha256_hex(canonical_request(s.req)) ==
             "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  BOOST_TEST(
      s.authorization ==
      suite_authorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

BOOST_AUTO_TEST_CASE(suite_query_order) {
  // get-vanilla-query-order-key-case: sorted by name, by code point.
  BOOST_TEST(signature_of(sign_suite("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}).authorization) ==
             "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  // get-vanilla-query-order-key: a repeated name is sorted by value.
  BOOST_TEST(signature_of(sign_suite("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}).authorization) ==
             "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
  // get-vanilla-query-order-value: and values compare by code point ('V' < 'v').
  const auto s = sign_suite("GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}});
  BOOST_TEST(canonical_query(s.req.query) == "Param1=Value1&Param1=value2");
  BOOST_TEST(sha256_hex(canonical_request(s.req)) ==
             "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89");
  BOOST_TEST(signature_of(s.authorization) == "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
}

BOOST_AUTO_TEST_CASE(suite_path_encoding) {
  // get-unreserved: nothing to encode.
  BOOST_TEST(signature_of(sign_suite("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
                              .authorization) == "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
  // get-utf8: U+1234 as UTF-8, percent-encoded once.
  const auto s = sign_suite("GET", "/\xe1\x88\xb4");
  BOOST_TEST(canonical_uri(s.req.path) == "/%E1%88%B4");
  BOOST_TEST(sha256_hex(canonical_request(s.req)) ==
             "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102");
  BOOST_TEST(signature_of(s.authorization) == "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

BOOST_AUTO_TEST_CASE(suite_header_canonicalisation) {
  // get-header-value-trim: values trimmed, inner runs of spaces collapsed.
  const auto trimmed = sign_suite("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}});
  BOOST_TEST(canonical_headers(trimmed.req.headers) ==
             "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n");
  BOOST_TEST(trimmed.authorization ==
             suite_authorization("host;my-header1;my-header2;x-amz-date",
                                 "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
  // get-header-key-duplicate: one name given three times, values joined in order.
  const auto duplicate =
      sign_suite("GET", "/", {}, {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}});
  BOOST_TEST(signature_of(duplicate.authorization) ==
             "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
}

BOOST_AUTO_TEST_CASE(suite_post) {
  BOOST_TEST(signature_of(sign_suite("POST", "/").authorization) ==
             "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  BOOST_TEST(signature_of(sign_suite("POST", "/", {{"Param1", "value1"}}).authorization) ==
             "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
  // post-x-www-form-urlencoded: the body's hash is signed.
  const auto form =
      sign_suite("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1");
  BOOST_TEST(form.req.payload_sha256 == "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  BOOST_TEST(sha256_hex(canonical_request(form.req)) ==
             "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  BOOST_TEST(form.authorization ==
             suite_authorization("content-type;host;x-amz-date",
                                 "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

BOOST_AUTO_TEST_CASE(suite_session_token_is_signed) {
  // post-sts-token/post-sts-header-before: X-Amz-Security-Token is part of the canonical request.
  const std::string token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwt"
      "hAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVX"
      "AkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/"
      "oLxBA==";
  credentials creds = suite_credentials;
  creds.session_token = token;
  const auto s = sign_suite("POST", "/", {}, {}, "", creds);
  const std::string sts = string_to_sign(suite_date, {"20150830", "us-east-1", "service"}, canonical_request(s.req));
  BOOST_TEST(sts ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
             "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6");
  BOOST_TEST(s.authorization ==
             suite_authorization("host;x-amz-date;x-amz-security-token",
                                 "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
}

BOOST_AUTO_TEST_CASE(s3_get_object_with_range) {
  const auto s = sign_s3("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}});
  BOOST_TEST(
      canonical_request(s.req) ==
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:" + empty_sha256 +
          "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" + empty_sha256);
  BOOST_TEST(string_to_sign(s3_date, {"20130524", "us-east-1", "s3"}, canonical_request(s.req)) ==
             "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
             "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  BOOST_TEST(s.authorization ==
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
             "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
             "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

BOOST_AUTO_TEST_CASE(s3_put_object) {
  const auto s = sign_s3("PUT", "/test$file.text", {},
                         {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                         "Welcome to Amazon S3.");
  BOOST_TEST(canonical_uri(s.req.path) == "/test%24file.text");
  BOOST_TEST(sha256_hex(canonical_request(s.req)) ==
             "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  BOOST_TEST(signed_header_names(s.req.headers) == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  BOOST_TEST(signature_of(s.authorization) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

BOOST_AUTO_TEST_CASE(s3_get_bucket_lifecycle) {
  const auto s = sign_s3("GET", "/", {{"lifecycle", ""}});
  BOOST_TEST(canonical_query(s.req.query) == "lifecycle=");
  BOOST_TEST(sha256_hex(canonical_request(s.req)) ==
             "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  BOOST_TEST(signature_of(s.authorization) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

BOOST_AUTO_TEST_CASE(s3_list_objects) {
  // Given out of order on purpose: the canonical query is sorted.
  const auto s = sign_s3("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}});
  BOOST_TEST(canonical_query(s.req.query) == "max-keys=2&prefix=J");
  BOOST_TEST(signature_of(s.authorization) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

BOOST_AUTO_TEST_CASE(sign_replaces_headers_it_owns_and_never_leaks_the_secret) {
  auto s = sign_s3("GET", "/test.txt", {}, {{"X-Amz-Date", "19990101T000000Z"}, {"Range", "bytes=0-9"}});
  BOOST_TEST(signature_of(s.authorization) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  for (const auto& h : s.req.headers)
    BOOST_TEST(h.value.find(s3_credentials.secret_access_key) == std::string::npos);
  BOOST_TEST(s.authorization.find(s3_credentials.secret_access_key) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
