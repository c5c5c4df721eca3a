#include "replica/object_store.hpp"

#include <stdexcept>

#include "replica/file_store.hpp"
#include "replica/s3/store.hpp"

namespace monolite::replica {

void throw_exception_from_error(const store_error& error, const boost::source_location&) {
  throw std::runtime_error(error.message);
}

store_result<std::unique_ptr<object_store>> open_store(std::string_view url) {
  if (url.starts_with("file://")) return open_file_store(url);
  if (url.starts_with("s3://")) return open_s3_store(url);
  return store_error{store_failure::bad_url,
                     "unsupported replica URL (want file:///abs/path or s3://bucket/prefix?...)"};
}

}  // namespace monolite::replica
