// store_probe — a test-only command line over one replica store URL (file:// or s3://), so that
// integration tests can drive object_store implementations against real servers. Not installed.
//
//   store_probe URL put KEY FILE          store FILE's bytes under KEY
//   store_probe URL get KEY               the object's bytes on stdout
//   store_probe URL list [PREFIX]         "KEY<TAB>SIZE" lines, sorted
//   store_probe URL stream-put KEY FILE PIECE
//                                         store FILE's bytes under KEY through begin_put(), in
//                                         writes of PIECE bytes
//   store_probe URL abandon-put KEY FILE  begin_put(), write all of FILE, drop without commit()
//   store_probe URL stream-get KEY OFFSET the object's bytes from OFFSET on (get_to) on stdout
//   store_probe URL remove KEY...         delete the keys
//   store_probe URL parallel THREADS N PREFIX
//                                         THREADS threads share one store; each puts N objects
//                                         under PREFIX, reads them back and compares
// Exit 0 on success; 1 with "store_probe: KIND: MESSAGE" on stderr when the store fails; 2 on usage.
#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "replica/object_store.hpp"

using namespace monolite::replica;

namespace {

const char* kind_name(store_failure kind) {
  switch (kind) {
    case store_failure::not_found: return "not_found";
    case store_failure::denied: return "denied";
    case store_failure::unreachable: return "unreachable";
    case store_failure::server: return "server";
    case store_failure::bad_url: return "bad_url";
    case store_failure::other: return "other";
  }
  return "other";
}

int failed(const store_error& error) {
  std::cerr << "store_probe: " << kind_name(error.kind) << ": " << error.message << "\n";
  return 1;
}

int usage() {
  std::cerr << "usage: store_probe URL put KEY FILE | get KEY | list [PREFIX] | remove KEY... | "
               "parallel THREADS N PREFIX\n";
  return 2;
}

int put(object_store& store, const std::string& key, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "store_probe: cannot read " << file << "\n";
    return 2;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto done = store.put(key, bytes);
  return done ? 0 : failed(done.error());
}

int get(object_store& store, const std::string& key) {
  auto bytes = store.get(key);
  if (!bytes) return failed(bytes.error());
  std::cout.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  return std::cout.flush() ? 0 : 1;
}

std::string read_file(const std::string& file, bool& ok) {
  std::ifstream in(file, std::ios::binary);
  ok = static_cast<bool>(in);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int stream_put(object_store& store, const std::string& key, const std::string& file, std::size_t piece, bool commit) {
  bool readable = false;
  const std::string bytes = read_file(file, readable);
  if (!readable || piece == 0) return usage();
  auto writer = store.begin_put(key);
  if (!writer) return failed(writer.error());
  for (std::size_t at = 0; at < bytes.size(); at += piece)
    if (auto written = (*writer)->write(std::string_view(bytes).substr(at, piece)); !written)
      return failed(written.error());
  if ((*writer)->bytes_written() != bytes.size()) return failed({store_failure::other, "bytes_written() is wrong"});
  if (!commit) return 0;
  auto done = (*writer)->commit();
  return done ? 0 : failed(done.error());
}

int stream_get(object_store& store, const std::string& key, std::uint64_t offset) {
  auto done = store.get_to(key, offset, [](std::string_view piece) {
    return static_cast<bool>(std::cout.write(piece.data(), static_cast<std::streamsize>(piece.size())));
  });
  if (!done) return failed(done.error());
  return std::cout.flush() ? 0 : 1;
}

int list(object_store& store, const std::string& prefix) {
  auto objects = store.list(prefix);
  if (!objects) return failed(objects.error());
  for (const auto& object : *objects)
    std::cout << object.key << '\t' << object.size << '\n';
  return 0;
}

// One thread's share of `parallel`: an error message, or "" when everything came back intact.
std::string put_and_get(object_store& store, const std::string& prefix, int thread, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string key = prefix + "/t" + std::to_string(thread) + "/" + std::to_string(i);
    const std::string bytes(static_cast<std::size_t>(1000 + thread * 31 + i), static_cast<char>('a' + i % 26));
    if (auto done = store.put(key, bytes); !done) return kind_name(done.error().kind) + (": " + done.error().message);
    auto back = store.get(key);
    if (!back) return kind_name(back.error().kind) + (": " + back.error().message);
    if (*back != bytes) return "other: " + key + " came back different";
  }
  return "";
}

int parallel(object_store& store, int threads, int count, const std::string& prefix) {
  std::vector<std::string> errors(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { errors[static_cast<std::size_t>(t)] = put_and_get(store, prefix, t, count); });
  for (auto& worker : workers)
    worker.join();
  for (const auto& error : errors) {
    if (!error.empty()) {
      std::cerr << "store_probe: " << error << "\n";
      return 1;
    }
  }
  return 0;
}

int run(object_store& store, const std::vector<std::string>& args) {
  const std::string& command = args[0];
  if (command == "put" && args.size() == 3) return put(store, args[1], args[2]);
  if (command == "get" && args.size() == 2) return get(store, args[1]);
  if (command == "stream-put" && args.size() == 4)
    return stream_put(store, args[1], args[2], std::stoul(args[3]), true);
  if (command == "abandon-put" && args.size() == 3) return stream_put(store, args[1], args[2], 65536, false);
  if (command == "stream-get" && args.size() == 3) return stream_get(store, args[1], std::stoull(args[2]));
  if (command == "list" && args.size() <= 2) return list(store, args.size() == 2 ? args[1] : "");
  if (command == "remove" && args.size() >= 2) {
    auto done = store.remove({args.begin() + 1, args.end()});
    return done ? 0 : failed(done.error());
  }
  if (command == "parallel" && args.size() == 4)
    return parallel(store, std::stoi(args[1]), std::stoi(args[2]), args[3]);
  return usage();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  auto store = open_store(argv[1]);
  if (!store) return failed(store.error());
  try {
    return run(**store, std::vector<std::string>(argv + 2, argv + argc));
  } catch (const std::exception& e) {  // std::stoi on a bad number
    std::cerr << "store_probe: " << e.what() << "\n";
    return 2;
  }
}
