// A snapshot into a replica: the database image (the file plus the WAL frames that belong to it)
// read, LZ4-compressed and uploaded piece by piece through object_store::begin_put(), so memory
// holds a few pieces (S3: the multipart parts in flight), never the image.
#pragma once
#include <cstdint>
#include <string>

#include "replica/object_store.hpp"

namespace monolite::replica {

// The caller keeps a read transaction open at the image's position until this returns.
// Returns the bytes stored under `key`; nothing is visible under it on failure.
store_result<std::uint64_t> upload_snapshot(object_store& store, const std::string& key, const std::string& db_path,
                                            std::uint32_t wal_frames);

}  // namespace monolite::replica
