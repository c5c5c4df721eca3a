#include "replica/s3/multipart.hpp"

#include <vector>

#include "replica/s3/xml.hpp"

namespace monolite::replica {

namespace {

constexpr std::string_view s3_namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

store_result<std::string> initiate(s3_client& client, const std::string& key) {
  const s3_call call{.method = "POST", .object_key = key, .query = {{"uploads", ""}}};
  auto reply = client.call(call);
  if (!reply) return reply.error();
  auto upload_id = replica::s3_xml::parse_upload_id(reply->body);
  if (!upload_id)
    return store_error{store_failure::other, client.describe_call(call) + "?uploads: reply has no UploadId"};
  return std::move(*upload_id);
}

// The part's ETag, which completing the upload must name.
store_result<std::string> upload_part(s3_client& client, const std::string& key, const std::string& upload_id,
                                      std::size_t number, std::string_view bytes) {
  const s3_call call{.method = "PUT",
                     .object_key = key,
                     .query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                     .body = bytes};
  auto reply = client.call(call);
  if (!reply) return reply.error();
  if (reply->etag.empty())
    return store_error{store_failure::other,
                       client.describe_call(call) + " part " + std::to_string(number) + ": reply has no ETag"};
  return std::move(reply->etag);
}

std::string completion_body(const std::vector<std::string>& etags) {
  std::string body = "<CompleteMultipartUpload xmlns=\"" + std::string(s3_namespace) + "\">";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + replica::s3_xml::escape(etags[i]) +
            "</ETag></Part>";
  }
  return body + "</CompleteMultipartUpload>";
}

store_result<void> complete(s3_client& client, const std::string& key, const std::string& upload_id,
                            const std::vector<std::string>& etags) {
  const std::string body = completion_body(etags);
  const s3_call call{.method = "POST",
                     .object_key = key,
                     .query = {{"uploadId", upload_id}},
                     .headers = {{"Content-Type", "application/xml"}},
                     .body = body,
                     .error_possible_in_200 = true};
  auto reply = client.call(call);
  if (!reply) return reply.error();
  return {};
}

// Best effort: the upload already failed, and that failure is what the caller needs to see.
void abort_upload(s3_client& client, const std::string& key, const std::string& upload_id) {
  (void)client.call({.method = "DELETE", .object_key = key, .query = {{"uploadId", upload_id}}});
}

}  // namespace

store_result<void> put_multipart(s3_client& client, const std::string& object_key, std::string_view bytes,
                                 std::size_t part_size) {
  auto upload_id = initiate(client, object_key);
  if (!upload_id) return upload_id.error();
  std::vector<std::string> etags;
  for (std::size_t offset = 0; offset < bytes.size(); offset += part_size) {
    auto etag = upload_part(client, object_key, *upload_id, etags.size() + 1, bytes.substr(offset, part_size));
    if (!etag) {
      abort_upload(client, object_key, *upload_id);
      return etag.error();
    }
    etags.push_back(std::move(*etag));
  }
  if (auto done = complete(client, object_key, *upload_id, etags); !done) {
    abort_upload(client, object_key, *upload_id);
    return done.error();
  }
  return {};
}

}  // namespace monolite::replica
