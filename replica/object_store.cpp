#include "replica/object_store.hpp"

#include <stdexcept>

#include "replica/file_store.hpp"
#include "replica/s3/store.hpp"

namespace monolite::replica {

void throw_exception_from_error(const store_error& error, const boost::source_location&) {
  throw std::runtime_error(error.message);
}

namespace {

// begin_put() of a store that has no streaming upload: the object is held until commit().
class buffered_writer final : public object_writer {
 public:
  buffered_writer(object_store& store, std::string key) : store_(store), key_(std::move(key)) {}
  store_result<void> write(std::string_view bytes) override {
    bytes_.append(bytes);
    return {};
  }
  store_result<void> commit() override { return store_.put(key_, bytes_); }
  std::uint64_t bytes_written() const override { return bytes_.size(); }

 private:
  object_store& store_;
  std::string key_, bytes_;
};

}  // namespace

store_result<void> object_store::get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) {
  auto bytes = get(key);
  if (!bytes) return bytes.error();
  if (offset > bytes->size())
    return store_error{store_failure::other,
                       key + ": asked from byte " + std::to_string(offset) + " of " + std::to_string(bytes->size())};
  if (offset < bytes->size() && !sink(std::string_view(*bytes).substr(offset)))
    return store_error{store_failure::other, key + ": download stopped by the reader"};
  return {};
}

store_result<std::unique_ptr<object_writer>> object_store::begin_put(const std::string& key) {
  return std::unique_ptr<object_writer>(std::make_unique<buffered_writer>(*this, key));
}

store_result<std::unique_ptr<object_store>> open_store(std::string_view url) {
  if (url.starts_with("file://")) return open_file_store(url);
  if (url.starts_with("s3://")) return open_s3_store(url);
  return store_error{store_failure::bad_url,
                     "unsupported replica URL (want file:///abs/path or s3://bucket/prefix?...)"};
}

}  // namespace monolite::replica
