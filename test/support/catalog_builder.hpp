// A replica listing built by hand: snapshots at (index, frame, time) and segments
// (index, first, last, first time, last time), for tests of the catalog, plans and retention.
#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include "replica/format/layout.hpp"

namespace monolite::test {

struct gen_builder {
  explicit gen_builder(std::string generation) : id(std::move(generation)) {}
  std::string id;
  std::vector<replica::layout::listed_object> objects;
  gen_builder& snap(std::uint32_t index, std::uint32_t frame, std::int64_t time) {
    objects.push_back({replica::layout::snapshot_key(id, {index, frame}, time), 10});
    return *this;
  }
  gen_builder& seg(std::uint32_t index, std::uint32_t first, std::uint32_t last, std::int64_t t1, std::int64_t t2) {
    objects.push_back({key(index, first, last, t1, t2), 10});
    return *this;
  }
  std::string key(std::uint32_t index, std::uint32_t first, std::uint32_t last, std::int64_t t1,
                  std::int64_t t2) const {
    return replica::layout::segment_key(id, index, first, last, t1, t2);
  }
};

inline std::vector<replica::layout::generation> catalog_of(std::initializer_list<gen_builder> gens) {
  std::vector<replica::layout::listed_object> all;
  for (const auto& g : gens)
    all.insert(all.end(), g.objects.begin(), g.objects.end());
  return replica::layout::parse_catalog(all);
}

}  // namespace monolite::test
