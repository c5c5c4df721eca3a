#include "replica/format/seal.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace monolite::replica::seal {
namespace {

constexpr std::string_view key_id_domain = "monolite replica key id";
constexpr std::string_view object_key_info = "monolite replica object";
constexpr std::size_t nonce_size = 12;

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

[[noreturn]] void openssl_bug(const char* what) { throw std::runtime_error(std::string("OpenSSL: ") + what); }

seal_error error(failure kind, std::string message) { return seal_error{kind, std::move(message)}; }
seal_error tampered() {
  return error(failure::fails_authentication, "fails authentication (tampered, truncated or corrupted)");
}

void append_big_endian(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<unsigned char, key::size> derive_object_key(const unsigned char* master, std::string_view salt) {
  std::array<unsigned char, key::size> out{};
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  std::size_t length = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), bytes_of(salt), static_cast<int>(salt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), master, static_cast<int>(key::size)) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes_of(object_key_info), static_cast<int>(object_key_info.size())) <=
          0 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &length) <= 0 || length != out.size())
    openssl_bug("HKDF failed");
  return out;
}

}  // namespace

// The per-object key, one AES-256-GCM context and the authenticated data every record shares.
struct cipher_state {
  std::array<unsigned char, key::size> object_key{};
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
  std::string shared_aad;  // header | u32 length of the object's name | the name

  cipher_state(const key& master, std::string_view header, const std::string& name) {
    object_key = derive_object_key(master.data(), header.substr(header_size - salt_size));
    shared_aad.assign(header);
    append_big_endian(shared_aad, name.size(), 4);
    shared_aad += name;
    if (!ctx) openssl_bug("no cipher context");
  }
  ~cipher_state() { OPENSSL_cleanse(object_key.data(), object_key.size()); }

  // Nonce and authenticated data of record `index`.
  void begin(bool encrypt, std::uint64_t index, bool final) {
    std::array<unsigned char, nonce_size> nonce{};
    for (int i = 0; i < 8; ++i)
      nonce[nonce_size - 1 - i] = static_cast<unsigned char>(index >> (8 * i));
    const auto init = encrypt ? &EVP_EncryptInit_ex : &EVP_DecryptInit_ex;
    if (init(ctx.get(), EVP_aes_256_gcm(), nullptr, object_key.data(), nonce.data()) != 1) openssl_bug("GCM init");
    std::string aad = shared_aad;
    append_big_endian(aad, index, 8);
    aad.push_back(final ? 1 : 0);
    int length = 0;
    const auto update = encrypt ? &EVP_EncryptUpdate : &EVP_DecryptUpdate;
    if (update(ctx.get(), nullptr, &length, bytes_of(aad), static_cast<int>(aad.size())) != 1) openssl_bug("GCM aad");
  }
};

void throw_exception_from_error(const seal_error& error, const boost::source_location&) {
  throw std::runtime_error(error.message);
}

std::string key_id::hex() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes)
    out += digits[b >> 4], out += digits[b & 15];
  return out;
}

seal_result<key> key::from_hex(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  const bool all_hex = std::all_of(text.begin(), text.end(), [](char c) { return hex_digit(c) >= 0; });
  if (text.size() != 2 * size || !all_hex)
    return error(failure::malformed_key,
                 "not a key: want 64 hex characters (32 random bytes, as `openssl rand -hex "
                 "32` writes), found " +
                     std::to_string(text.size()) + " characters" + (all_hex ? "" : ", not all of them hex digits"));
  key out;
  for (std::size_t i = 0; i < size; ++i)
    out.bytes_[i] = static_cast<unsigned char>(hex_digit(text[2 * i]) << 4 | hex_digit(text[2 * i + 1]));
  std::string material(key_id_domain);
  material.append(reinterpret_cast<const char*>(out.bytes_.data()), size);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned digest_size = 0;
  const bool hashed = EVP_Digest(material.data(), material.size(), digest.data(), &digest_size, EVP_sha256(), nullptr);
  OPENSSL_cleanse(material.data(), material.size());
  if (!hashed) openssl_bug("SHA-256 failed");
  std::copy_n(digest.begin(), key_id_size, out.id_.bytes.begin());
  return out;
}

key::~key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

void keyring::add(const key& k) {
  if (!find(k.id())) keys_.push_back(k);
}

const key* keyring::find(const key_id& id) const {
  auto it = std::find_if(keys_.begin(), keys_.end(), [&](const key& k) { return k.id() == id; });
  return it == keys_.end() ? nullptr : &*it;
}

bool is_sealed(std::string_view first_bytes) { return first_bytes.starts_with(magic); }

seal_result<key_id> key_id_of(std::string_view header) {
  if (!is_sealed(header)) return error(failure::not_sealed, "not encrypted");
  if (header.size() < header_size) return tampered();
  if (static_cast<std::uint8_t>(header[magic.size()]) != format_version)
    return error(failure::fails_authentication, "sealed in format version " +
                                                    std::to_string(static_cast<std::uint8_t>(header[magic.size()])) +
                                                    ", which this monolite does not know");
  key_id id;
  std::copy_n(bytes_of(header) + magic.size() + 1, key_id_size, id.bytes.begin());
  return id;
}

record_position position_of(std::uint64_t plaintext_offset) {
  const std::uint64_t record = plaintext_offset / record_plaintext_size;
  return {record, header_size + record * record_sealed_size,
          static_cast<std::size_t>(plaintext_offset % record_plaintext_size)};
}

std::uint64_t sealed_size(std::uint64_t plaintext_size) {
  return header_size + (plaintext_size / record_plaintext_size + 1) * tag_size + plaintext_size;
}

sealer::sealer(const key& k, std::string object_key) {
  header_.assign(magic);
  header_.push_back(static_cast<char>(format_version));
  header_.append(reinterpret_cast<const char*>(k.id().bytes.data()), key_id_size);
  std::array<unsigned char, salt_size> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) openssl_bug("no random bytes");
  header_.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  state_ = std::make_unique<cipher_state>(k, header_, object_key);
}

sealer::sealer(sealer&&) noexcept = default;
sealer& sealer::operator=(sealer&&) noexcept = default;
sealer::~sealer() = default;

std::string sealer::seal_record(std::string_view plaintext, bool final) {
  state_->begin(true, next_record_++, final);
  std::string out(plaintext.size() + tag_size, '\0');
  auto* dest = reinterpret_cast<unsigned char*>(out.data());
  int length = 0;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(state_->ctx.get(), dest, &length, bytes_of(plaintext), static_cast<int>(plaintext.size())) != 1)
    openssl_bug("GCM encrypt");
  if (EVP_EncryptFinal_ex(state_->ctx.get(), dest + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(state_->ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, dest + plaintext.size()) != 1)
    openssl_bug("GCM tag");
  return out;
}

std::string sealer::append(std::string_view plaintext) {
  std::string out;
  if (!header_sent_) out = header_, header_sent_ = true;
  while (!plaintext.empty()) {
    const auto take = std::min(plaintext.size(), record_plaintext_size - pending_.size());
    pending_.append(plaintext.substr(0, take));
    plaintext.remove_prefix(take);
    if (pending_.size() < record_plaintext_size) break;
    out += seal_record(pending_, false);
    pending_.clear();
  }
  return out;
}

std::string sealer::finish() {
  std::string out = append({});
  out += seal_record(pending_, true);
  pending_.clear();
  return out;
}

opener::opener(const keyring& keys, std::string object_key, std::uint64_t first_record)
    : keys_(keys), object_key_(std::move(object_key)), next_record_(first_record) {}
opener::opener(opener&&) noexcept = default;
opener::~opener() = default;

seal_result<void> opener::take_header() {
  if (!magic.starts_with(std::string_view(buffer_).substr(0, magic.size())))  // not even a prefix of the magic
    return error(failure::not_sealed, "not encrypted");
  if (buffer_.size() < header_size) return {};
  header_ = buffer_.substr(0, header_size);
  buffer_.erase(0, header_size);
  auto id = key_id_of(header_);
  if (!id) return id.error();
  sealed_with_ = *id;
  const key* k = keys_.find(*id);
  if (!k) return error(failure::unknown_key, "encrypted with key " + id->hex() + ", which is not among the given keys");
  state_ = std::make_unique<cipher_state>(*k, header_, object_key_);
  return {};
}

seal_result<std::string> opener::open_record(std::string_view sealed, bool final) {
  const std::size_t size = sealed.size() - tag_size;
  state_->begin(false, next_record_++, final);
  std::string out(size, '\0');
  auto* dest = reinterpret_cast<unsigned char*>(out.data());
  int length = 0;
  if (size > 0 && EVP_DecryptUpdate(state_->ctx.get(), dest, &length, bytes_of(sealed), static_cast<int>(size)) != 1)
    return tampered();
  std::array<unsigned char, tag_size> tag{};
  std::copy_n(bytes_of(sealed) + size, tag_size, tag.begin());
  if (EVP_CIPHER_CTX_ctrl(state_->ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(state_->ctx.get(), dest + length, &length) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return tampered();
  }
  return out;
}

seal_result<std::string> opener::feed(std::string_view sealed) {
  if (finished_) return tampered();
  buffer_.append(sealed);
  if (!state_) {
    if (auto ok = take_header(); !ok) return finished_ = true, ok.error();
    if (!state_) return std::string();
  }
  std::string out;
  std::size_t used = 0;
  // A full-size record is never the final one: the final record is always shorter.
  for (; buffer_.size() - used >= record_sealed_size; used += record_sealed_size) {
    auto plain = open_record(std::string_view(buffer_).substr(used, record_sealed_size), false);
    if (!plain) return finished_ = true, plain.error();
    out += *plain;
  }
  buffer_.erase(0, used);
  return out;
}

seal_result<std::string> opener::finish() {
  if (finished_) return tampered();
  finished_ = true;
  if (!state_) {
    if (buffer_.empty() || !magic.starts_with(std::string_view(buffer_).substr(0, magic.size())))
      return error(failure::not_sealed, "not encrypted");
    return tampered();  // a header cut short
  }
  if (buffer_.size() < tag_size) return tampered();
  return open_record(buffer_, true);
}

std::string seal_object(const key& k, const std::string& object_key, std::string_view plaintext) {
  sealer s(k, object_key);
  std::string out = s.append(plaintext);
  return out + s.finish();
}

seal_result<std::string> open_object(const keyring& keys, const std::string& object_key, std::string_view sealed) {
  opener o(keys, object_key);
  auto body = o.feed(sealed);
  if (!body) return body.error();
  auto last = o.finish();
  if (!last) return last.error();
  return *body + *last;
}

}  // namespace monolite::replica::seal
