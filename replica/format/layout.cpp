#include "replica/format/layout.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <map>
#include <tuple>

namespace monolite::replica::layout {

namespace {
constexpr std::string_view generations_dir = "generations/";

std::string hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::optional<std::uint32_t> parse_hex8(std::string_view s) {
  std::uint32_t v = 0;
  if (s.size() != 8) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

// "<index>-<frame>_<time>"
std::optional<snapshot_entry> parse_snapshot(std::string_view name) {
  if (!strip_suffix(name, ".snapshot.lz4")) return std::nullopt;
  const auto parts = split(name, '_');
  if (parts.size() != 2) return std::nullopt;
  const auto numbers = split(parts[0], '-');
  if (numbers.size() != 2) return std::nullopt;
  auto index = parse_hex8(numbers[0]), frame = parse_hex8(numbers[1]);
  auto time = parse_compact_time(parts[1]);
  if (!index || !frame || !time) return std::nullopt;
  snapshot_entry e;
  e.at = {*index, *frame};
  e.time_ms = *time;
  return e;
}

// "<index>-<first>-<last>_<first time>_<last time>"
std::optional<segment_entry> parse_segment(std::string_view name) {
  if (!strip_suffix(name, ".wal.lz4")) return std::nullopt;
  const auto parts = split(name, '_');
  if (parts.size() != 3) return std::nullopt;
  const auto numbers = split(parts[0], '-');
  if (numbers.size() != 3) return std::nullopt;
  auto index = parse_hex8(numbers[0]), first = parse_hex8(numbers[1]), last = parse_hex8(numbers[2]);
  auto t1 = parse_compact_time(parts[1]), t2 = parse_compact_time(parts[2]);
  if (!index || !first || !last || !t1 || !t2 || *first == 0 || *last < *first) return std::nullopt;
  segment_entry e;
  e.index = *index;
  e.first_frame = *first;
  e.last_frame = *last;
  e.first_time_ms = *t1;
  e.last_time_ms = *t2;
  return e;
}

// Adds one listed object to its generation; false when it is not part of the layout.
bool add_object(std::map<std::string, generation>& gens, const listed_object& object) {
  std::string_view key = object.key;
  if (!key.starts_with(generations_dir)) return false;
  const auto parts = split(key.substr(generations_dir.size()), '/');
  if (parts.size() != 3 || parts[0].empty()) return false;
  const std::string id(parts[0]);
  if (parts[1] == "snapshots") {
    auto e = parse_snapshot(parts[2]);
    if (!e) return false;
    e->generation = id, e->key = object.key, e->size = object.size;
    gens[id].snapshots.push_back(std::move(*e));
  } else if (parts[1] == "wal") {
    auto e = parse_segment(parts[2]);
    if (!e) return false;
    e->generation = id, e->key = object.key, e->size = object.size;
    gens[id].segments.push_back(std::move(*e));
  } else {
    return false;
  }
  gens[id].bytes += object.size;
  return true;
}

// Sorts the segments and moves those another one holds entirely into `redundant`. By first frame,
// the longest first: a segment ending at or before the furthest end so far is held by an earlier one.
void set_aside_redundant(generation& g) {
  std::sort(g.segments.begin(), g.segments.end(), [](const segment_entry& a, const segment_entry& b) {
    return std::tie(a.index, a.first_frame, b.last_frame, a.key) <
           std::tie(b.index, b.first_frame, a.last_frame, b.key);
  });
  std::vector<segment_entry> kept;
  std::optional<position> furthest;
  for (auto& s : g.segments) {
    const position end{s.index, s.last_frame};
    if (furthest && furthest->index == s.index && end <= *furthest) {
      g.redundant.push_back(std::move(s));
      continue;
    }
    furthest = end;
    kept.push_back(std::move(s));
  }
  g.segments = std::move(kept);
}
}  // namespace

std::optional<std::int64_t> generation::first_time_ms() const {
  if (snapshots.empty()) return std::nullopt;
  std::int64_t t = snapshots.front().time_ms;
  for (const auto& s : snapshots)
    t = std::min(t, s.time_ms);
  return t;
}

std::optional<std::int64_t> generation::last_time_ms() const {
  std::optional<std::int64_t> t;
  for (const auto& s : snapshots)
    t = std::max(t.value_or(s.time_ms), s.time_ms);
  for (const auto& s : segments)
    t = std::max(t.value_or(s.last_time_ms), s.last_time_ms);
  return t;
}

std::int64_t generation::start_time_ms() const {
  std::optional<std::int64_t> t = first_time_ms();
  for (const auto& s : segments)
    t = std::min(t.value_or(s.first_time_ms), s.first_time_ms);
  return t.value_or(0);
}

position generation::end() const {
  position p;
  for (const auto& s : snapshots)
    p = std::max(p, s.at);
  for (const auto& s : segments)
    p = std::max(p, position{s.index, s.last_frame});
  return p;
}

std::string new_generation_id(std::int64_t now_ms, std::uint32_t random) {
  std::string t = compact_time(now_ms);  // 20261122T031502.123Z → drop the milliseconds
  return t.substr(0, 15) + "Z-" + hex8(random);
}

std::string snapshot_key(std::string_view generation, position at, std::int64_t time_ms) {
  return std::string(generations_dir) + std::string(generation) + "/snapshots/" + hex8(at.index) + "-" +
         hex8(at.frame) + "_" + compact_time(time_ms) + ".snapshot.lz4";
}

std::string segment_key(std::string_view generation, std::uint32_t index, std::uint32_t first, std::uint32_t last,
                        std::int64_t first_time_ms, std::int64_t last_time_ms) {
  return std::string(generations_dir) + std::string(generation) + "/wal/" + hex8(index) + "-" + hex8(first) + "-" +
         hex8(last) + "_" + compact_time(first_time_ms) + "_" + compact_time(last_time_ms) + ".wal.lz4";
}

std::vector<generation> parse_catalog(const std::vector<listed_object>& objects) {
  std::map<std::string, generation> gens;
  for (const auto& o : objects)
    add_object(gens, o);
  std::vector<generation> out;
  for (auto& [id, g] : gens) {
    g.id = id;
    std::sort(g.snapshots.begin(), g.snapshots.end(), [](auto& a, auto& b) { return a.at < b.at; });
    set_aside_redundant(g);
    out.push_back(std::move(g));
  }
  // Oldest first by when their history starts (two generations may begin in the same second).
  std::stable_sort(out.begin(), out.end(), [](const generation& a, const generation& b) {
    return std::pair(a.start_time_ms(), a.id) < std::pair(b.start_time_ms(), b.id);
  });
  return out;
}

std::string compact_time(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms - std::int64_t(secs) * 1000));
  return buf;
}

std::string rfc3339_time(std::int64_t ms) {
  const std::string c = compact_time(ms);  // YYYYMMDDTHHMMSS.mmmZ
  return c.substr(0, 4) + "-" + c.substr(4, 2) + "-" + c.substr(6, 2) + "T" + c.substr(9, 2) + ":" + c.substr(11, 2) +
         ":" + c.substr(13, 2) + c.substr(15);
}

namespace {
std::optional<std::int64_t> from_fields(int year, int mon, int day, int hh, int mm, int ss, int millis) {
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900, tm.tm_mon = mon - 1, tm.tm_mday = day;
  tm.tm_hour = hh, tm.tm_min = mm, tm.tm_sec = ss;
  return std::int64_t(timegm(&tm)) * 1000 + millis;
}

// ".123…" → milliseconds (extra digits truncated); advances `s`.
int parse_fraction(std::string_view& s) {
  if (s.empty() || s.front() != '.') return 0;
  s.remove_prefix(1);
  int millis = 0, digits = 0;
  while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
    if (digits < 3) millis = millis * 10 + (s.front() - '0');
    ++digits;
    s.remove_prefix(1);
  }
  while (digits > 0 && digits < 3)
    millis *= 10, ++digits;
  return digits == 0 ? -1 : millis;
}
}  // namespace

std::optional<std::int64_t> parse_compact_time(std::string_view t) {
  int y, mo, d, h, mi, s, ms;
  if (t.size() != 20 || t[8] != 'T' || t[15] != '.' || t[19] != 'Z') return std::nullopt;
  if (!parse_int(t.substr(0, 4), y) || !parse_int(t.substr(4, 2), mo) || !parse_int(t.substr(6, 2), d) ||
      !parse_int(t.substr(9, 2), h) || !parse_int(t.substr(11, 2), mi) || !parse_int(t.substr(13, 2), s) ||
      !parse_int(t.substr(16, 3), ms))
    return std::nullopt;
  return from_fields(y, mo, d, h, mi, s, ms);
}

std::optional<std::int64_t> parse_rfc3339(std::string_view t) {
  int y, mo, d, h, mi, s;
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' ||
      t[16] != ':')
    return std::nullopt;
  if (!parse_int(t.substr(0, 4), y) || !parse_int(t.substr(5, 2), mo) || !parse_int(t.substr(8, 2), d) ||
      !parse_int(t.substr(11, 2), h) || !parse_int(t.substr(14, 2), mi) || !parse_int(t.substr(17, 2), s))
    return std::nullopt;
  std::string_view rest = t.substr(19);
  const int millis = parse_fraction(rest);
  if (millis < 0) return std::nullopt;
  auto base = from_fields(y, mo, d, h, mi, s, millis);
  if (!base) return std::nullopt;
  if (rest == "Z" || rest == "z") return base;
  int oh, om;
  if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' || !parse_int(rest.substr(1, 2), oh) ||
      !parse_int(rest.substr(4, 2), om))
    return std::nullopt;
  const std::int64_t offset_ms = (std::int64_t(oh) * 60 + om) * 60000;
  return rest[0] == '+' ? *base - offset_ms : *base + offset_ms;
}

}  // namespace monolite::replica::layout
