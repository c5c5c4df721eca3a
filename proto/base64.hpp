// Standard base64 (RFC 4648, with padding), used for blobs in JSON.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace monolite::proto {

std::string base64_encode(const std::vector<unsigned char>& bytes);

// Empty optional when the text is not valid padded base64.
std::optional<std::vector<unsigned char>> base64_decode(std::string_view text);

// Standard base64 with its padding or without it (Hrana clients send either).
std::optional<std::vector<unsigned char>> base64_decode_any_padding(std::string_view text);

}  // namespace monolite::proto

namespace monolite::proto {

// URL-safe base64 without padding (RFC 4648 §5), as JWTs use it.
std::optional<std::vector<unsigned char>> base64url_decode(std::string_view text);
std::string base64url_encode(const std::vector<unsigned char>& bytes);

}  // namespace monolite::proto
