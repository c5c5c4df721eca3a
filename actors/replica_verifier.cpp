#include "actors/replica_verifier.hpp"

#include "actors/replicator.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"

namespace monolite::actors {

std::string verify_scratch_path(const std::string& db_path) { return db_path + ".verify"; }

void record_verification(verify_stats& stats,
                         const boost::system::result<replica::verify_report, replica::restore_error>& r,
                         std::chrono::duration<double> took, std::int64_t now_ms) {
  stats.last_duration_seconds = took.count();
  if (r && r->same())
    stats.last_success_ms = now_ms;
  else
    ++stats.failures;
}

namespace {
void log_verification(const std::string& replica,
                      const boost::system::result<replica::verify_report, replica::restore_error>& r,
                      std::chrono::duration<double> took) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  if (!r) {
    log::error("replica verification failed", {{"replica", replica}, {"reason", r.error().message}, {"ms", ms}});
    return;
  }
  boost::json::object fields{
      {"replica", replica}, {"generation", r->generation}, {"index", r->at.index},    {"frame", r->at.frame},
      {"ms", ms},           {"pages", r->live.pages},      {"sha256", r->live.sha256}};
  if (r->same()) return log::info("replica verified", std::move(fields));
  fields["reason"] = "the replica differs from the live database: " + replica::describe_difference(*r);
  fields["replica_sha256"] = r->replica.sha256;
  fields["replica_pages"] = r->replica.pages;
  log::error("replica verification failed", std::move(fields));
}
}  // namespace

proto::result<std::unique_ptr<replica_verifier>> replica_verifier::open(const std::vector<std::string>& urls,
                                                                        verify_settings settings,
                                                                        const replica::seal::keyring& keys) {
  auto sealed = open_replica_stores(urls, keys);  // connections of its own, not the shippers'
  if (!sealed) return sealed.error();
  std::vector<std::shared_ptr<replica::object_store>> stores(sealed->begin(), sealed->end());
  return std::unique_ptr<replica_verifier>(new replica_verifier(std::move(stores), std::move(settings)));
}

replica_verifier::replica_verifier(std::vector<std::shared_ptr<replica::object_store>> stores, verify_settings settings)
    : stores_(std::move(stores)), settings_(std::move(settings)) {
  for (const auto& s : stores_)
    stats_.push_back(verify_stats{s->describe()});
}

replica_verifier::~replica_verifier() {
  request_stop();
  join();
}

void replica_verifier::start() {
  running_.store(true, std::memory_order_release);
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void replica_verifier::request_stop() {
  if (thread_.joinable()) thread_.request_stop();  // wakes the interval wait too
}

bool replica_verifier::running() const { return running_.load(std::memory_order_acquire); }

void replica_verifier::join() {
  if (thread_.joinable()) thread_.join();
}

std::vector<verify_stats> replica_verifier::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void replica_verifier::run(std::stop_token stop) {
  // A scratch copy left by a process that died mid-way is removed before anything else.
  replica::remove_verify_scratch(verify_scratch_path(settings_.db_path));
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, settings_.interval, [] { return false; });
    }
    for (std::size_t i = 0; i < stores_.size() && !stop.stop_requested(); ++i)
      verify_one(i, stop);
  }
  running_.store(false, std::memory_order_release);
}

void replica_verifier::verify_one(std::size_t i, const std::stop_token& stop) {
  replica::verify_options options;
  options.wait = settings_.catch_up_wait;
  options.scratch = verify_scratch_path(settings_.db_path);
  options.parallelism = settings_.parallelism;
  options.cancelled = [&stop] { return stop.stop_requested(); };
  const auto began = std::chrono::steady_clock::now();
  const auto result = replica::verify_live(*stores_[i], settings_.db_path, options);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
  if (!result && stop.stop_requested()) {
    log::info("replica verification stopped by the shutdown", {{"replica", stores_[i]->describe()}});
    return;  // not a failure of the replica
  }
  log_verification(stores_[i]->describe(), result, took);
  std::lock_guard lock(mutex_);
  record_verification(stats_[i], result, took, now_ms());
}

}  // namespace monolite::actors
