#include "replica/resume.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "db/wal_tail.hpp"
#include "replica/format/lz4.hpp"
#include "replica/format/wal_segment.hpp"

namespace monolite::replica {
namespace wal = db::wal;
using failure = boost::system::result<resume_point, std::string>;

store_result<std::vector<replica::layout::generation>> read_catalog(object_store& store) {
  auto listed = store.list("generations/");
  if (!listed) return listed.error();
  std::vector<replica::layout::listed_object> objects;
  objects.reserve(listed->size());
  for (auto& o : *listed)
    objects.push_back({std::move(o.key), o.size});
  return replica::layout::parse_catalog(objects);
}

namespace {

// The chain value after the first `frames` frames of the local WAL, if they are all valid and
// the last one ends a transaction.
std::optional<wal::checksum> local_chain_after(const std::string& db_path, const replica::wal_segment& newest,
                                               std::uint32_t frames) {
  const std::string path = db_path + "-wal";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const auto header = newest.parsed_header();
  auto head = db::read_file_range(fd, 0, wal::header_size);
  auto body = db::read_file_range(fd, wal::header_size, std::size_t(frames) * header.frame_size());
  ::close(fd);
  if (!head || !body || head->size() != wal::header_size) return std::nullopt;
  if (std::memcmp(head->data(), newest.wal_header.data(), wal::header_size) != 0) return std::nullopt;
  const auto scan = wal::scan_frames(header, *body, header.sum);
  if (scan.frames != frames) return std::nullopt;
  return scan.sum;
}

// The mark of the last complete checkpoint matches the replica's end, belongs to this database
// file, and the live WAL is the very next one (SQLite adds 1 to salt-1 at each restart).
bool restarted_right_after(const std::string& db_path, const replica::wal_segment& newest, std::uint32_t frames,
                           wal::checksum chain) {
  const auto mark = db::read_wal_mark(db_path);
  if (!mark || mark->wal_header != newest.wal_header || mark->frames != frames || !(mark->chain == chain)) return false;
  if (mark->db_inode == 0 || mark->db_inode != db::file_inode(db_path)) return false;
  db::wal_tail live(db_path);
  if (!live.start(0)) return false;
  return live.header() && live.header()->salt1 == newest.parsed_header().salt1 + 1;
}

}  // namespace

boost::system::result<resume_point, std::string> find_resume_point(object_store& store, const std::string& db_path) {
  auto catalog = read_catalog(store);
  if (!catalog) return failure(boost::system::in_place_error, "cannot list the replica: " + catalog.error().message);
  if (catalog->empty()) return failure(boost::system::in_place_error, "the replica is empty");
  const auto& gen = catalog->back();
  if (gen.snapshots.empty() || gen.segments.empty())
    return failure(boost::system::in_place_error, "the newest generation has no WAL segment yet");
  const auto& last = gen.segments.back();
  if (gen.end() != replica::layout::position{last.index, last.last_frame})
    return failure(boost::system::in_place_error, "the newest generation ends with a snapshot");
  auto bytes = store.get(last.key);
  if (!bytes) return failure(boost::system::in_place_error, "cannot read " + last.key + ": " + bytes.error().message);
  auto raw = replica::lz4::decompress(*bytes);
  if (!raw) return failure(boost::system::in_place_error, raw.error().message);
  auto segment = replica::decode_segment(*raw);
  if (!segment) return failure(boost::system::in_place_error, segment.error().message);
  const auto header = segment->parsed_header();
  const auto replica_chain = wal::scan_frames(header, segment->frames, segment->chain_in).sum;
  const auto local = local_chain_after(db_path, *segment, last.last_frame);
  if (local && *local == replica_chain) return resume_point{gen.id, {last.index, last.last_frame}, 0, last.key};
  if (restarted_right_after(db_path, *segment, last.last_frame, replica_chain))
    return resume_point{gen.id, {last.index + 1, 0}, last.last_frame, last.key};
  return failure(boost::system::in_place_error, "the local WAL does not hold the replica's last frames");
}

bool holds_position(object_store& store, const std::string& generation, replica::layout::position at) {
  auto catalog = read_catalog(store);
  return catalog && !catalog->empty() && catalog->back().id == generation && catalog->back().end() == at;
}

}  // namespace monolite::replica
