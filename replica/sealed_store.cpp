#include "replica/sealed_store.hpp"

namespace monolite::replica {
namespace {

store_error refused(const std::string& key, const std::string& why) { return {store_failure::other, key + ": " + why}; }

store_error stopped_by_reader(const std::string& key) { return refused(key, "download stopped by the reader"); }

// A sealed object met by a reader that was given no key.
store_error encrypted_without_keys(const std::string& key, std::string_view header) {
  auto id = seal::key_id_of(header);
  return refused(key, "the replica is encrypted" + (id ? " (key " + id->hex() + ")" : std::string()) +
                          "; give its key with --replica-encryption-key-file or MONOLITE_REPLICA_ENCRYPTION_KEY");
}

// Plaintext from an opener, handed to the reader's sink from `skip` bytes on (a download that
// starts inside a record).
class plaintext_stream {
 public:
  plaintext_stream(seal::opener& opener, std::size_t skip, const byte_sink& sink)
      : opener_(opener), skip_(skip), sink_(sink) {}

  bool feed(std::string_view sealed) {
    auto plain = opener_.feed(sealed);
    if (!plain) return failure = plain.error(), false;
    return emit(*plain);
  }
  bool finish() {
    auto plain = opener_.finish();
    if (!plain) return failure = plain.error(), false;
    return emit(*plain);
  }
  bool skipped_everything() const { return skip_ == 0; }

  std::optional<seal::seal_error> failure;
  bool reader_stopped = false;

 private:
  bool emit(std::string_view plain) {
    const auto dropped = std::min(plain.size(), skip_);
    plain.remove_prefix(dropped), skip_ -= dropped;
    if (plain.empty() || sink_(plain)) return true;
    reader_stopped = true;
    return false;
  }
  seal::opener& opener_;
  std::size_t skip_;
  const byte_sink& sink_;
};

// begin_put() with a key: seals piece by piece into the inner store's writer.
class sealing_writer final : public object_writer {
 public:
  sealing_writer(std::unique_ptr<object_writer> inner, seal::sealer sealer)
      : inner_(std::move(inner)), sealer_(std::move(sealer)) {}
  store_result<void> write(std::string_view bytes) override {
    const auto sealed = sealer_.append(bytes);
    return sealed.empty() ? store_result<void>() : inner_->write(sealed);
  }
  store_result<void> commit() override {
    if (auto ok = inner_->write(sealer_.finish()); !ok) return ok;
    return inner_->commit();
  }
  std::uint64_t bytes_written() const override { return inner_->bytes_written(); }  // sealed bytes

 private:
  std::unique_ptr<object_writer> inner_;
  seal::sealer sealer_;
};

}  // namespace

sealed_store::sealed_store(std::unique_ptr<object_store> inner, seal::keyring keys)
    : inner_(std::move(inner)), keys_(std::move(keys)) {}

store_error sealed_store::refusal(const std::string& key, const seal::seal_error& e) const {
  if (e.kind == seal::failure::not_sealed) return refused(key, "not encrypted, but encryption keys were given");
  return refused(key, e.message);
}

std::optional<seal::key_id> sealed_store::sealing_key() const {
  if (keys_.empty()) return std::nullopt;
  return keys_.current()->id();
}

store_result<void> sealed_store::put(const std::string& key, std::string_view bytes) {
  if (keys_.empty()) return inner_->put(key, bytes);
  return inner_->put(key, seal::seal_object(*keys_.current(), key, bytes));
}

store_result<std::string> sealed_store::get(const std::string& key) {
  auto bytes = inner_->get(key);
  if (!bytes) return bytes.error();
  if (keys_.empty()) {
    if (seal::is_sealed(*bytes)) return encrypted_without_keys(key, *bytes);
    return bytes;
  }
  auto plain = seal::open_object(keys_, key, *bytes);
  if (!plain) return refusal(key, plain.error());
  return std::move(*plain);
}

store_result<std::string> sealed_store::read_header(const std::string& key) {
  std::string head;
  auto got = inner_->get_to(key, 0, [&](std::string_view piece) {
    head.append(piece.substr(0, seal::header_size - head.size()));
    return head.size() < seal::header_size;
  });
  if (!got && head.size() < seal::header_size) return got.error();  // stopping after the header is no failure
  return head;
}

store_result<std::optional<seal::key_id>> sealed_store::sealed_with(const std::string& key) {
  auto head = read_header(key);
  if (!head) return head.error();
  if (!seal::is_sealed(*head)) return std::optional<seal::key_id>();
  auto id = seal::key_id_of(*head);
  if (!id) return refusal(key, id.error());
  return std::optional<seal::key_id>(*id);
}

// Without keys: the bytes as stored, but a sealed object is refused before any of it is handed on.
store_result<void> sealed_store::passthrough_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) {
  if (offset > 0) return inner_->get_to(key, offset, sink);  // the start was checked by the read from 0
  std::string head;
  bool checked = false, sealed = false, reader_stopped = false;
  auto got = inner_->get_to(key, 0, [&](std::string_view piece) {
    std::string_view out = piece;
    if (!checked) {
      head.append(piece);
      const bool may_be_sealed = seal::magic.starts_with(std::string_view(head).substr(0, seal::magic.size()));
      if (may_be_sealed && head.size() < seal::header_size) return true;  // the key id is wanted for the message
      checked = true, sealed = seal::is_sealed(head), out = head;
      if (sealed) return false;
    }
    reader_stopped = !sink(out);
    return !reader_stopped;
  });
  if (sealed) return encrypted_without_keys(key, head);
  if (reader_stopped) return stopped_by_reader(key);
  if (!got) return got;
  if (!checked && !head.empty() && !sink(head)) return stopped_by_reader(key);  // shorter than a header
  return {};
}

store_result<void> sealed_store::get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) {
  if (keys_.empty()) return passthrough_to(key, offset, sink);
  const auto at = seal::position_of(offset);
  seal::opener opener(keys_, key, at.record);
  plaintext_stream stream(opener, at.skip, sink);
  if (at.record > 0) {  // resuming inside the object: its header first, then the records from `at` on
    auto head = read_header(key);
    if (!head) return head.error();
    if (!stream.feed(*head)) return refusal(key, *stream.failure);
  }
  auto got = inner_->get_to(key, at.record > 0 ? at.sealed_offset : 0,
                            [&](std::string_view piece) { return stream.feed(piece); });
  if (stream.failure) return refusal(key, *stream.failure);
  if (stream.reader_stopped) return stopped_by_reader(key);
  if (!got) return got;
  if (!stream.finish()) return stream.failure ? refusal(key, *stream.failure) : stopped_by_reader(key);
  if (!stream.skipped_everything())
    return refused(key, "asked from byte " + std::to_string(offset) + ", past the end of the object");
  return {};
}

store_result<std::unique_ptr<object_writer>> sealed_store::begin_put(const std::string& key) {
  if (keys_.empty()) return inner_->begin_put(key);
  auto writer = inner_->begin_put(key);
  if (!writer) return writer.error();
  return std::unique_ptr<object_writer>(
      std::make_unique<sealing_writer>(std::move(*writer), seal::sealer(*keys_.current(), key)));
}

store_result<std::unique_ptr<sealed_store>> open_sealed_store(std::string_view url, const seal::keyring& keys) {
  auto inner = open_store(url);
  if (!inner) return inner.error();
  return std::make_unique<sealed_store>(std::move(*inner), keys);
}

}  // namespace monolite::replica
