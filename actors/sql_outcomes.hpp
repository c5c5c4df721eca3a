// What running SQL answers, whichever engine ran it: a read, a write request (all its statements
// or none), a Hrana pipeline. Plain data, handed from an engine's executor to the caller's.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "proto/error.hpp"
#include "proto/hrana.hpp"
#include "proto/sql_response.hpp"

namespace monolite::actors {

struct read_outcome {
  proto::result<proto::statement_result> result{proto::statement_result{}};
  double time_ms = 0;
};

struct write_outcome {
  proto::result<std::vector<proto::statement_result>> results{std::vector<proto::statement_result>{}};
  double time_ms = 0;
};

namespace hrana {

struct stream_ref {
  std::uint64_t id = 0;
  std::uint64_t seq = 0;
};

struct pipeline_outcome {
  proto::result<void> status;      // an error: the HTTP answer is that error alone
  std::optional<stream_ref> next;  // the stream's next baton; empty once it is closed
  std::vector<proto::hrana::stream_result> results;
};

}  // namespace hrana
}  // namespace monolite::actors
