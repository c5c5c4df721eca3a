#include "replica/s3/multipart.hpp"

#include <chrono>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "replica/s3/xml.hpp"

namespace monolite::replica {

namespace {

constexpr std::string_view s3_namespace = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr unsigned part_attempts = 3;

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

// A part uploaded with a few quick retries: one transient failure must not cost a whole snapshot.
store_result<std::string> upload_part_retried(s3_client& client, const std::string& key, const std::string& upload_id,
                                              std::size_t number, const std::string& bytes) {
  for (unsigned attempt = 1;; ++attempt) {
    auto etag = upload_part(client, key, upload_id, number, bytes);
    if (etag || !etag.error().retryable() || attempt == part_attempts) return etag;
    std::this_thread::sleep_for(std::chrono::milliseconds(250) * (1u << attempt));
  }
}

class multipart_writer final : public object_writer {
 public:
  multipart_writer(s3_client& client, std::string key, std::size_t part_size)
      : client_(client), key_(std::move(key)), part_size_(part_size) {}
  ~multipart_writer() override {
    for (auto& part : parts_)
      if (part.valid()) part.wait();
    if (!upload_id_.empty() && !committed_) abort_upload(client_, key_, upload_id_);
  }

  store_result<void> write(std::string_view bytes) override {
    if (failure_) return *failure_;
    written_ += bytes.size();
    while (!bytes.empty()) {
      const std::size_t take = std::min(part_size_ - buffer_.size(), bytes.size());
      buffer_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (buffer_.size() == part_size_)
        if (auto sent = send_part(); !sent) return sent;
    }
    return {};
  }

  store_result<void> commit() override {
    if (failure_) return *failure_;
    if (upload_id_.empty()) {  // it all fit in one part
      auto reply = client_.call({.method = "PUT", .object_key = key_, .body = buffer_});
      if (!reply) return reply.error();
      return committed_ = true, store_result<void>();
    }
    if (!buffer_.empty())
      if (auto sent = send_part(); !sent) return sent;
    while (etags_.size() < parts_.size())
      if (auto collected = collect_oldest(); !collected) return collected;
    if (auto done = complete(client_, key_, upload_id_, etags_); !done) return done;
    return committed_ = true, store_result<void>();
  }

  std::uint64_t bytes_written() const override { return written_; }

 private:
  store_result<void> send_part() {
    if (upload_id_.empty()) {
      auto id = initiate(client_, key_);
      if (!id) return id.error();
      upload_id_ = std::move(*id);
    }
    while (parts_.size() - etags_.size() >= multipart_parts_in_flight)
      if (auto collected = collect_oldest(); !collected) return collected;
    parts_.push_back(std::async(std::launch::async, [this, number = parts_.size() + 1, bytes = std::move(buffer_)] {
      return upload_part_retried(client_, key_, upload_id_, number, bytes);
    }));
    buffer_.clear();
    return {};
  }

  // A part's outcome can be taken once: its failure is kept for every later call.
  store_result<void> collect_oldest() {
    auto etag = parts_[etags_.size()].get();
    if (!etag) {
      failure_ = etag.error();
      return etag.error();
    }
    etags_.push_back(std::move(*etag));
    return {};
  }

  s3_client& client_;
  std::string key_;
  std::size_t part_size_;
  std::string buffer_, upload_id_;
  std::vector<std::future<store_result<std::string>>> parts_;  // in part order
  std::vector<std::string> etags_;                             // of parts_[0 .. etags_.size())
  std::uint64_t written_ = 0;
  std::optional<store_error> failure_;
  bool committed_ = false;
};

}  // namespace

store_result<std::unique_ptr<object_writer>> begin_multipart(s3_client& client, const std::string& object_key,
                                                             std::size_t part_size) {
  return std::unique_ptr<object_writer>(std::make_unique<multipart_writer>(client, object_key, part_size));
}

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
