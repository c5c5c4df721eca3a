#include "server/hrana_batons.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "proto/hrana_baton.hpp"

namespace monolite::server {
namespace ph = proto::hrana;
namespace {

ph::baton_mac mac_of(const std::array<unsigned char, 32>& key, std::uint64_t stream, std::uint64_t seq) {
  const auto input = ph::baton_signed_bytes(stream, seq);
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input.data(), input.size(), full, &length))
    throw std::runtime_error("HMAC-SHA256 failed");
  ph::baton_mac out{};
  std::copy(full, full + out.size(), out.begin());
  return out;
}

}  // namespace

baton_signer::baton_signer() {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1)
    throw std::runtime_error("no random bytes for the baton key");
}

std::string baton_signer::sign(const actors::hrana::stream_ref& ref) const {
  return ph::encode_baton({ref.id, ref.seq, mac_of(key_, ref.id, ref.seq)});
}

std::optional<actors::hrana::stream_ref> baton_signer::verify(std::string_view baton) const {
  const auto fields = ph::parse_baton(baton);
  if (!fields) return std::nullopt;
  const auto expected = mac_of(key_, fields->stream, fields->seq);
  if (CRYPTO_memcmp(expected.data(), fields->mac.data(), expected.size()) != 0) return std::nullopt;
  return actors::hrana::stream_ref{fields->stream, fields->seq};
}

}  // namespace monolite::server
