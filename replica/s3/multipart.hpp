// s3_multipart — an object too big for one PUT, as a multipart upload: initiate, send the parts in
// order, complete. On any failure the upload is aborted, so no orphaned parts stay behind (S3 keeps
// and bills them until they are aborted). Readers see the object only once it is complete.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "replica/s3/client.hpp"

namespace monolite::replica {

inline constexpr std::size_t multipart_threshold = std::size_t{16} << 20;  // bodies above go in parts
inline constexpr std::size_t multipart_part_size = std::size_t{8} << 20;   // S3 wants ≥ 5 MiB but the last

// Parts sent at once by a streamed upload: memory held is about (this + 1) × the part size.
inline constexpr std::size_t multipart_parts_in_flight = 4;

store_result<void> put_multipart(s3_client& client, const std::string& object_key, std::string_view bytes,
                                 std::size_t part_size = multipart_part_size);

// An object written piece by piece: a single PUT if it ends within one part, else a multipart
// upload whose parts go out in parallel as they fill (each retried a few times on a transient
// failure). Destroyed without commit(), an upload it began is aborted.
store_result<std::unique_ptr<object_writer>> begin_multipart(s3_client& client, const std::string& object_key,
                                                             std::size_t part_size = multipart_part_size);

}  // namespace monolite::replica
