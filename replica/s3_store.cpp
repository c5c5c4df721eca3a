#include "replica/s3_store.hpp"

namespace monolite::replica {

store_result<std::unique_ptr<object_store>> open_s3_store(std::string_view) {
  return store_error{store_failure::bad_url, "s3:// replicas are not available in this build"};
}

}  // namespace monolite::replica
