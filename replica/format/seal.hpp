// Sealed replica objects: AES-256-GCM over fixed-size records, streamable both ways. Pure: no I/O.
//
//   header  = "MLSEAL1\0" | version (1 byte, 1) | key id (8 bytes) | salt (32 random bytes)   49 bytes
//   records = ciphertext of up to 64 KiB of plaintext | 16-byte tag, one after the other
//
// Every record but the last holds exactly 64 KiB of plaintext; the last one holds less (possibly
// nothing), so an object of 64 KiB is one full record and an empty final one. The per-object key is
// HKDF-SHA256(key, salt, "monolite replica object"); the nonce of record i is i (96-bit big-endian),
// so a nonce never repeats under a per-object key. Each record authenticates the header, the
// object's name in the store, its own index and whether it is the final record: an object cannot be
// renamed, swapped for another, truncated or reordered without failing to open.
#pragma once
#include <array>
#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace monolite::replica::seal {

inline constexpr std::string_view magic{"MLSEAL1\0", 8};
inline constexpr std::uint8_t format_version = 1;
inline constexpr std::size_t key_id_size = 8, salt_size = 32, tag_size = 16;
inline constexpr std::size_t header_size = magic.size() + 1 + key_id_size + salt_size;
inline constexpr std::size_t record_plaintext_size = 64 * 1024;
inline constexpr std::size_t record_sealed_size = record_plaintext_size + tag_size;

enum class failure {
  malformed_key,        // key text that is not 64 hex characters
  not_sealed,           // the bytes do not begin with a sealed header
  unknown_key,          // sealed under a key id the keyring does not hold
  fails_authentication  // a tag does not verify, or records are missing
};

struct seal_error {
  failure kind = failure::fails_authentication;
  std::string message;  // never contains key material
};

template <class T>
using seal_result = boost::system::result<T, seal_error>;

// Lets seal_result<T>::value() throw; only where a failure is a bug (tests, invariants).
[[noreturn]] void throw_exception_from_error(const seal_error& error, const boost::source_location& location);

// The first 8 bytes of SHA-256("monolite replica key id" | key): names a key without revealing it.
struct key_id {
  std::array<unsigned char, key_id_size> bytes{};
  std::string hex() const;
  bool operator==(const key_id&) const = default;
};

// One 32-byte key. Its bytes are wiped when it goes away.
class key {
 public:
  static constexpr std::size_t size = 32;
  // 64 hex characters; surrounding whitespace is ignored.
  static seal_result<key> from_hex(std::string_view text);
  key(const key&) = default;
  key& operator=(const key&) = default;
  ~key();
  const key_id& id() const { return id_; }
  const unsigned char* data() const { return bytes_.data(); }

 private:
  key() = default;
  std::array<unsigned char, size> bytes_{};
  key_id id_;
};

// The keys a replica may be opened with; the first one (current) seals new objects.
class keyring {
 public:
  void add(const key& k);  // a key already held is not added twice
  bool empty() const { return keys_.empty(); }
  std::size_t size() const { return keys_.size(); }
  const key* current() const { return keys_.empty() ? nullptr : &keys_.front(); }
  const key* find(const key_id& id) const;

 private:
  std::vector<key> keys_;
};

bool is_sealed(std::string_view first_bytes);
// The key id in a sealed header (needs at least header_size bytes).
seal_result<key_id> key_id_of(std::string_view header);

// Where plaintext byte `offset` lives: the record holding it, that record's first sealed byte, and
// how many plaintext bytes of the record come before `offset`.
struct record_position {
  std::uint64_t record = 0;
  std::uint64_t sealed_offset = 0;
  std::size_t skip = 0;
};
record_position position_of(std::uint64_t plaintext_offset);
// Size of a sealed object holding `plaintext_size` bytes.
std::uint64_t sealed_size(std::uint64_t plaintext_size);

struct cipher_state;  // the per-object key and an EVP context

// Seals one object piece by piece: append() returns the sealed bytes ready so far (the header
// first), finish() the final record. Spent after finish().
class sealer {
 public:
  // Draws the object's random salt. OpenSSL failing here is a bug (an exception).
  sealer(const key& k, std::string object_key);
  sealer(sealer&&) noexcept;
  sealer& operator=(sealer&&) noexcept;
  ~sealer();
  std::string append(std::string_view plaintext);
  std::string finish();

 private:
  std::string seal_record(std::string_view plaintext, bool final);
  std::unique_ptr<cipher_state> state_;
  std::string pending_;  // plaintext of the record being filled
  std::string header_;
  bool header_sent_ = false;
  std::uint64_t next_record_ = 0;
};

// Opens one object: feed() the sealed bytes in order from the start of the object, or the header
// and then the records from `first_record` on (a resumed download); each call returns the
// plaintext of the records verified so far. finish() fails unless the final record was seen.
class opener {
 public:
  opener(const keyring& keys, std::string object_key, std::uint64_t first_record = 0);
  opener(opener&&) noexcept;
  ~opener();
  seal_result<std::string> feed(std::string_view sealed);
  seal_result<std::string> finish();
  // Known once the header is in.
  std::optional<key_id> sealed_with() const { return sealed_with_; }

 private:
  seal_result<void> take_header();
  seal_result<std::string> open_record(std::string_view sealed, bool final);
  keyring keys_;
  std::string object_key_;
  std::unique_ptr<cipher_state> state_;
  std::string buffer_, header_;
  std::optional<key_id> sealed_with_;
  std::uint64_t next_record_ = 0;
  bool finished_ = false;
};

// Whole objects at once.
std::string seal_object(const key& k, const std::string& object_key, std::string_view plaintext);
seal_result<std::string> open_object(const keyring& keys, const std::string& object_key, std::string_view sealed);

}  // namespace monolite::replica::seal
