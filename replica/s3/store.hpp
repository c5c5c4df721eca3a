// s3_store — object_store over the S3 REST API with AWS Signature Version 4.
#pragma once
#include "replica/object_store.hpp"

namespace monolite::replica {

// `url` is s3://bucket/prefix?endpoint=http(s)://host:port&region=…&force_path_style=true|false.
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
store_result<std::unique_ptr<object_store>> open_s3_store(std::string_view url);

}  // namespace monolite::replica
