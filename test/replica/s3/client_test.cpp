// s3_client and the multipart upload against a scripted server: what is signed and sent, errors
// hidden in a 200, and a multipart upload that fails part-way or at completion is aborted.
#include "replica/s3/client.hpp"

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <mutex>

#include "replica/s3/fake_http_server.hpp"
#include "replica/s3/multipart.hpp"
#include "replica/s3/sigv4.hpp"

using namespace monolite::replica;
using monolite::test::fake_http_server;

namespace {

std::string http_response(unsigned status, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

s3_client client_for(const fake_http_server& server, std::string session_token = "") {
  auto config = parse_s3_url("s3://bucket/pre?endpoint=http://127.0.0.1:" + server.port(), "us-east-1");
  BOOST_REQUIRE(config.has_value());
  return s3_client(std::move(*config),
                   fixed_credentials({"AKIDTEST", "not-a-real-secret", std::move(session_token)}, "test"));
}

std::string lower(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string request_line(const std::string& head) { return head.substr(0, head.find("\r\n")); }

// Plays S3's side of a multipart upload of "pre/big"; `fail` names the request line prefix that
// gets `failure` instead. Keeps the request lines and the completion body it saw.
struct multipart_script {
  std::string fail;
  std::string failure;
  std::mutex mutex;
  std::vector<std::string> lines;
  std::string completion;

  std::string operator()(const std::string& head, const std::string& body) {
    std::lock_guard lock(mutex);
    const std::string line = request_line(head);
    lines.push_back(line);
    if (!fail.empty() && line.starts_with(fail)) return failure;
    if (line.starts_with("POST /bucket/pre/big?uploads="))
      return http_response(200,
                           "<InitiateMultipartUploadResult><UploadId>U-1</UploadId></InitiateMultipartUploadResult>");
    if (line.starts_with("PUT /bucket/pre/big?partNumber=")) {
      const std::string number = line.substr(31, 1);
      return http_response(200, "", "ETag: \"etag-" + number + "\"\r\n");
    }
    if (line.starts_with("POST /bucket/pre/big?uploadId=U-1")) {
      completion = body;
      return http_response(200, "<CompleteMultipartUploadResult><Key>pre/big</Key></CompleteMultipartUploadResult>");
    }
    if (line.starts_with("DELETE /bucket/pre/big?uploadId=U-1")) return http_response(204, "");
    return http_response(400, "<Error><Code>Unexpected</Code></Error>");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(replica_s3_client)

BOOST_AUTO_TEST_CASE(requests_are_signed_with_the_payload_hash) {
  fake_http_server server([](const std::string&, const std::string&) { return http_response(200, ""); });
  s3_client client = client_for(server);
  auto reply = client.call({.method = "PUT", .object_key = "pre/a b+c", .body = "hello"});
  BOOST_REQUIRE_MESSAGE(reply.has_value(), reply.error().message);
  const std::string head = lower(server.heads().at(0));
  BOOST_TEST(request_line(head) == "put /bucket/pre/a%20b%2bc http/1.1");
  BOOST_TEST(head.find("\r\nhost: 127.0.0.1:" + server.port() + "\r\n") != std::string::npos, head);
  BOOST_TEST(head.find("\r\nx-amz-content-sha256: " + monolite::replica::sigv4::sha256_hex("hello")) !=
             std::string::npos);
  BOOST_TEST(head.find("\r\nx-amz-date: ") != std::string::npos);
  BOOST_TEST(head.find("\r\nauthorization: aws4-hmac-sha256 credential=akidtest/") != std::string::npos, head);
  BOOST_TEST(head.find("signedheaders=host;x-amz-content-sha256;x-amz-date, signature=") != std::string::npos, head);
  BOOST_TEST(head.find("x-amz-security-token") == std::string::npos);
  BOOST_TEST(head.find("not-a-real-secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_session_token_is_sent_and_signed) {
  fake_http_server server([](const std::string&, const std::string&) { return http_response(200, ""); });
  s3_client client = client_for(server, "TOKEN/123=");
  BOOST_REQUIRE(client.call({.method = "GET", .object_key = "pre/k"}).has_value());
  const std::string head = lower(server.heads().at(0));
  BOOST_TEST(head.find("\r\nx-amz-security-token: token/123=") != std::string::npos, head);
  BOOST_TEST(head.find("signedheaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_error_document_in_a_200_fails_only_where_s3_does_that) {
  const std::string error = "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>retry</Message></Error>";
  fake_http_server server([&](const std::string&, const std::string&) { return http_response(200, error); });
  s3_client client = client_for(server);
  // An object may hold any bytes, even an S3 error document.
  auto object = client.call({.method = "GET", .object_key = "pre/k"});
  BOOST_REQUIRE(object.has_value());
  BOOST_TEST(object->body == error);
  auto completion = client.call({.method = "POST", .object_key = "pre/k", .error_possible_in_200 = true});
  BOOST_REQUIRE(completion.has_error());
  BOOST_TEST((completion.error().kind == store_failure::server));
  BOOST_TEST(completion.error().message.find("InternalError: retry") != std::string::npos, completion.error().message);
}

BOOST_AUTO_TEST_CASE(multipart_upload_sends_parts_in_order_and_completes) {
  multipart_script script;
  fake_http_server server(std::ref(script));
  s3_client client = client_for(server);
  auto done = put_multipart(client, "pre/big", "0123456789", 4);
  BOOST_REQUIRE_MESSAGE(done.has_value(), done.error().message);
  std::lock_guard lock(script.mutex);
  BOOST_REQUIRE_EQUAL(script.lines.size(), 5u);
  BOOST_TEST(script.lines[1].starts_with("PUT /bucket/pre/big?partNumber=1&uploadId=U-1 "));
  BOOST_TEST(script.lines[3].starts_with("PUT /bucket/pre/big?partNumber=3&uploadId=U-1 "));
  BOOST_TEST(script.completion.find("<Part><PartNumber>1</PartNumber><ETag>&quot;etag-1&quot;</ETag></Part>"
                                    "<Part><PartNumber>2</PartNumber>") != std::string::npos,
             script.completion);
}

BOOST_AUTO_TEST_CASE(a_failed_part_aborts_the_upload) {
  multipart_script script;
  script.fail = "PUT /bucket/pre/big?partNumber=2";
  script.failure =
      http_response(503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate</Message></Error>");
  fake_http_server server(std::ref(script));
  s3_client client = client_for(server);
  auto done = put_multipart(client, "pre/big", "0123456789", 4);
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST((done.error().kind == store_failure::server));
  BOOST_TEST(done.error().message.find("SlowDown") != std::string::npos, done.error().message);
  std::lock_guard lock(script.mutex);
  BOOST_REQUIRE_EQUAL(script.lines.size(), 4u);  // initiate, part 1, part 2, abort: no part 3
  BOOST_TEST(script.lines[3].starts_with("DELETE /bucket/pre/big?uploadId=U-1 "));
}

BOOST_AUTO_TEST_CASE(a_completion_that_fails_inside_a_200_aborts_the_upload) {
  multipart_script script;
  script.fail = "POST /bucket/pre/big?uploadId=U-1";
  script.failure = http_response(200, "<Error><Code>InternalError</Code><Message>We hit a snag</Message></Error>");
  fake_http_server server(std::ref(script));
  s3_client client = client_for(server);
  auto done = put_multipart(client, "pre/big", "0123456789", 4);
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().message.find("We hit a snag") != std::string::npos, done.error().message);
  std::lock_guard lock(script.mutex);
  BOOST_TEST(script.lines.back().starts_with("DELETE /bucket/pre/big?uploadId=U-1 "));
}

BOOST_AUTO_TEST_CASE(a_streamed_upload_keeps_its_first_failure_for_every_later_call) {
  multipart_script script;
  script.fail = "PUT /bucket/pre/big?partNumber=1";
  script.failure = http_response(403, "<Error><Code>AccessDenied</Code><Message>No</Message></Error>");
  fake_http_server server(std::ref(script));
  s3_client client = client_for(server);
  auto writer = begin_multipart(client, "pre/big", 4);
  BOOST_REQUIRE(writer.has_value());
  // Part 1 fails; the writer learns it when it collects the oldest part (four are in flight).
  store_result<void> written;
  for (int part = 0; part < 8 && written; ++part)
    written = (*writer)->write("abcd");
  BOOST_REQUIRE(written.has_error());
  BOOST_TEST(written.error().message.find("AccessDenied") != std::string::npos, written.error().message);
  // Writing on, or committing, answers that same failure instead of collecting the spent part again.
  auto again = (*writer)->write("abcd");
  BOOST_REQUIRE(again.has_error());
  BOOST_TEST(again.error().message == written.error().message);
  auto committed = (*writer)->commit();
  BOOST_REQUIRE(committed.has_error());
  BOOST_TEST(committed.error().message == written.error().message);
  writer->reset();  // aborts the upload
  std::lock_guard lock(script.mutex);
  BOOST_TEST(script.lines.back().starts_with("DELETE /bucket/pre/big?uploadId=U-1 "));
}

BOOST_AUTO_TEST_SUITE_END()
