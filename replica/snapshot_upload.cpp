#include "replica/snapshot_upload.hpp"

#include "db/db_image.hpp"
#include "replica/format/lz4.hpp"

namespace monolite::replica {

store_result<std::uint64_t> upload_snapshot(object_store& store, const std::string& key, const std::string& db_path,
                                            std::uint32_t wal_frames) {
  constexpr std::size_t piece_bytes = std::size_t{1} << 20;
  auto writer = store.begin_put(key);
  if (!writer) return writer.error();
  lz4::compressor compressed;
  store_result<void> sent;  // the first failure; the rest of the image is then skipped
  auto image = db::read_image(db_path, wal_frames, [&](std::string_view pages) {
    if (!sent) return;
    compressed.append(pages);
    if (compressed.pending() >= piece_bytes) sent = (*writer)->write(compressed.take());
  });
  if (!image) return store_error{store_failure::other, "cannot read the database: " + image.error().message};
  if (sent) sent = (*writer)->write(compressed.finish());
  if (sent) sent = (*writer)->commit();
  if (!sent) return sent.error();
  return (*writer)->bytes_written();
}

}  // namespace monolite::replica
