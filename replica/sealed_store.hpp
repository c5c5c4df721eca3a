// sealed_store — an object_store that encrypts what it stores (replica/format/seal.hpp): put() and
// begin_put() seal under the keyring's current key, get() and get_to() open with any key of the
// ring; list, remove, describe and requests pass through. Every replica is opened through one:
// with an empty keyring objects pass through unchanged, and a sealed object met without keys is
// refused with a line that says which key to give. With keys, a plaintext object is refused too (a
// plaintext object slipped into an encrypted replica is an attack or a mistake). Every such refusal
// is store_failure::other, naming the object: not worth retrying.
#pragma once
#include <memory>
#include <optional>

#include "replica/format/seal.hpp"
#include "replica/object_store.hpp"

namespace monolite::replica {

class sealed_store final : public object_store {
 public:
  sealed_store(std::unique_ptr<object_store> inner, seal::keyring keys);

  std::string describe() const override { return inner_->describe(); }
  store_result<void> put(const std::string& key, std::string_view bytes) override;
  store_result<std::string> get(const std::string& key) override;
  store_result<std::vector<object_info>> list(const std::string& prefix) override { return inner_->list(prefix); }
  store_result<void> remove(const std::vector<std::string>& keys) override { return inner_->remove(keys); }
  request_counts requests() const override { return inner_->requests(); }
  store_result<void> get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) override;
  store_result<std::unique_ptr<object_writer>> begin_put(const std::string& key) override;

  // The key id new objects are sealed with; none when they are stored as they are.
  std::optional<seal::key_id> sealing_key() const;
  // The key id an object was sealed with (none: stored as it is); reads only its header.
  store_result<std::optional<seal::key_id>> sealed_with(const std::string& key);

 private:
  store_error refusal(const std::string& key, const seal::seal_error& e) const;
  store_result<std::string> read_header(const std::string& key);
  store_result<void> passthrough_to(const std::string& key, std::uint64_t offset, const byte_sink& sink);

  std::unique_ptr<object_store> inner_;
  seal::keyring keys_;
};

// open_store(url) wrapped in a sealed_store with `keys` (possibly none).
store_result<std::unique_ptr<sealed_store>> open_sealed_store(std::string_view url, const seal::keyring& keys);

}  // namespace monolite::replica
