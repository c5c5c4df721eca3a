#include "server/statement_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "db/sql_normalize.hpp"
#include "proto/text.hpp"

namespace monolite::server {
namespace {

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Cut at a character boundary, marked, so two long shapes that differ only past the cut are one.
std::string bounded(std::string shape) {
  if (shape.size() <= statement_log::max_shape_bytes) return shape;
  std::size_t cut = statement_log::max_shape_bytes;
  while (cut > 0 && (static_cast<unsigned char>(shape[cut]) & 0xC0) == 0x80)
    --cut;
  shape.resize(cut);
  return shape + "\xE2\x80\xA6";
}

std::optional<std::uint64_t> count_of(const boost::json::value* v) {
  if (v && v->is_uint64()) return v->as_uint64();
  if (v && v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
  return std::nullopt;
}

proto::result<statement_stats> parse_line(std::string_view line, std::string& sql) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(line, ec);
  const auto* o = ec ? nullptr : value.if_object();
  const auto* text = o ? o->if_contains("sql") : nullptr;
  const auto count = count_of(o ? o->if_contains("count") : nullptr);
  const auto* first = o ? o->if_contains("first_seen") : nullptr;
  const auto* last = o ? o->if_contains("last_seen") : nullptr;
  if (!text || !text->is_string() || !count || !first || !first->is_int64() || !last || !last->is_int64())
    return proto::bad_request("not a statement log line");
  sql = text->as_string();
  return statement_stats{*count, first->as_int64(), last->as_int64()};
}

void add(statement_stats& into, const statement_stats& more) {
  if (into.count == 0 || more.first_seen < into.first_seen) into.first_seen = more.first_seen;
  into.last_seen = std::max(into.last_seen, more.last_seen);
  into.count += more.count;
}

proto::result<void> write_all(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return proto::internal_error(std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return proto::internal_error(std::strerror(errno));
  return {};
}

// `text` becomes the whole of `path`, or `path` stays as it was.
proto::result<void> replace_file(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return proto::internal_error("cannot write " + temp + ": " + std::strerror(errno));
  auto written = write_all(fd, text);
  ::close(fd);
  if (written && ::rename(temp.c_str(), path.c_str()) != 0)
    written = proto::internal_error("cannot rename " + temp + " to " + path + ": " + std::strerror(errno));
  if (!written) ::unlink(temp.c_str());
  if (!written) return proto::internal_error("cannot write " + path + ": " + written.error().message);
  return {};
}

}  // namespace

proto::result<void> merge_statement_lines(std::string_view text, statement_table& into) {
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string sql;
    auto stats = parse_line(line, sql);
    if (!stats) return proto::bad_request("line " + std::to_string(number) + " is not a statement log entry");
    add(into[sql], *stats);
  }
  return {};
}

std::string encode_statement_lines(const statement_table& table) {
  std::string out;
  for (const auto& [sql, s] : table) {
    const boost::json::object line{
        {"sql", proto::valid_utf8(sql)}, {"count", s.count}, {"first_seen", s.first_seen}, {"last_seen", s.last_seen}};
    out += boost::json::serialize(line);
    out += '\n';
  }
  return out;
}

proto::result<std::unique_ptr<statement_log>> statement_log::open(std::string path, std::size_t limit) {
  auto log = std::make_unique<statement_log>(std::move(path), limit);
  std::ifstream in(log->path_, std::ios::binary);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    statement_table held;
    if (auto merged = merge_statement_lines(text.str(), held); !merged)
      return proto::bad_request(log->path_ + ": " + merged.error().message + " (not a statement log?)");
    log->merge(held);
  }
  if (auto saved = log->save(); !saved) return saved.error();
  return log;
}

void statement_log::merge(const statement_table& table) {
  for (const auto& [sql, stats] : table) {
    auto& s = shard_for(sql);
    std::lock_guard lock(s.mutex);
    auto [it, added] = s.shapes.try_emplace(sql);
    if (added) stored_.fetch_add(1, std::memory_order_relaxed);
    add(it->second, stats);
  }
  changes_.fetch_add(1, std::memory_order_relaxed);
}

statement_log::shard& statement_log::shard_for(const std::string& shape) {
  return shards_[std::hash<std::string>{}(shape) % shards_.size()];
}

void statement_log::record(std::string_view sql) { record(sql, unix_seconds()); }

void statement_log::record(std::string_view sql, std::int64_t now_seconds) {
  auto shape = bounded(db::normalize_sql(sql));  // outside any lock: the one part that grows with the text
  if (shape.empty()) return;
  auto& s = shard_for(shape);
  std::lock_guard lock(s.mutex);
  if (auto it = s.shapes.find(shape); it != s.shapes.end()) {
    add(it->second, {1, now_seconds, now_seconds});  // the clock may have gone back since the file
  } else if (stored_.fetch_add(1, std::memory_order_relaxed) < limit_) {
    s.shapes.emplace(std::move(shape), statement_stats{1, now_seconds, now_seconds});
  } else {
    stored_.fetch_sub(1, std::memory_order_relaxed);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  changes_.fetch_add(1, std::memory_order_relaxed);
}

statement_table statement_log::table() const {
  statement_table out;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    out.insert(s.shapes.begin(), s.shapes.end());
  }
  return out;
}

proto::result<void> statement_log::save() {
  std::lock_guard lock(save_mutex_);
  const auto changes = changes_.load(std::memory_order_relaxed);
  if (changes == saved_changes_) return {};
  if (auto replaced = replace_file(path_, encode_statement_lines(table())); !replaced) return replaced.error();
  saved_changes_ = changes;
  return {};
}

}  // namespace monolite::server
