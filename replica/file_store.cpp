#include "replica/file_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace monolite::replica {
namespace fs = std::filesystem;

namespace {

store_error io_error(const std::string& what, const fs::path& path, int err) {
  return {store_failure::other, what + " " + path.string() + ": " + std::strerror(err)};
}

// Writes all of `bytes` to `fd`; false with errno set on failure.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// A temporary file beside the target, renamed over it on commit (as put() does).
class file_writer final : public object_writer {
 public:
  file_writer(fs::path target, fs::path temp, int fd) : target_(std::move(target)), temp_(std::move(temp)), fd_(fd) {}
  ~file_writer() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }
  store_result<void> write(std::string_view bytes) override {
    if (fd_ < 0 || !write_all(fd_, bytes)) return io_error("cannot write", temp_, fd_ < 0 ? EBADF : errno);
    written_ += bytes.size();
    return {};
  }
  store_result<void> commit() override {
    if (fd_ < 0) return io_error("cannot write", temp_, EBADF);
    const bool synced = ::fsync(fd_) == 0;
    const int err = errno;
    ::close(fd_), fd_ = -1;
    if (!synced) return io_error("cannot write", target_, err);
    if (::rename(temp_.c_str(), target_.c_str()) != 0) return io_error("cannot write", target_, errno);
    committed_ = true;
    if (!fsync_directory(target_.parent_path())) return io_error("cannot sync", target_.parent_path(), errno);
    return {};
  }
  std::uint64_t bytes_written() const override { return written_; }

 private:
  fs::path target_, temp_;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t written_ = 0;
};

class file_store final : public object_store {
 public:
  explicit file_store(fs::path root) : root_(std::move(root)) {}

  std::string describe() const override { return "file://" + root_.string(); }
  request_counts requests() const override { return counts_.snapshot(); }

  // Through a temporary file, renamed into place once written and synced (as begin_put()).
  store_result<void> put(const std::string& key, std::string_view bytes) override {
    auto writer = begin_put(key);
    if (!writer) return writer.error();
    if (auto written = (*writer)->write(bytes); !written) return written;
    return (*writer)->commit();
  }

  store_result<std::string> get(const std::string& key) override {
    const fs::path path = root_ / key;
    auto opened = open_object(key, path);
    if (!opened) return opened.error();
    const int fd = *opened;
    struct stat st {};
    std::string bytes;
    bool ok = ::fstat(fd, &st) == 0;
    if (ok) bytes.resize(static_cast<std::size_t>(st.st_size));
    for (std::size_t got = 0; ok && got < bytes.size();) {
      const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      got += ok ? static_cast<std::size_t>(n) : 0;
    }
    const int err = errno;
    ::close(fd);
    if (!ok) return io_error("cannot read", path, err);
    return bytes;
  }

  store_result<void> get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink) override {
    const fs::path path = root_ / key;
    auto opened = open_object(key, path);
    if (!opened) return opened.error();
    const int fd = *opened;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::vector<char> piece(1 << 20);
    auto done = copy_from(fd, offset, piece, sink, key, path);
    ::close(fd);
    return done;
  }

  store_result<std::unique_ptr<object_writer>> begin_put(const std::string& key) override {
    counts_.count(request_counter::kind::put);
    const fs::path target = root_ / key;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      return store_error{store_failure::other, "cannot create " + target.parent_path().string() + ": " + ec.message()};
    fs::path temp = target.string() + ".tmp" + std::to_string(::getpid()) + "." + std::to_string(++counter_);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot create", temp, errno);
    return std::unique_ptr<object_writer>(std::make_unique<file_writer>(target, std::move(temp), fd));
  }

  store_result<std::vector<object_info>> list(const std::string& prefix) override {
    counts_.count(request_counter::kind::list);
    std::vector<object_info> out;
    std::error_code ec;
    if (!fs::exists(root_, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string key = fs::relative(it->path(), root_, ec).generic_string();
      if (key.find(".tmp") != std::string::npos) continue;  // a put in progress
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      out.push_back({std::move(key), static_cast<std::uint64_t>(it->file_size(ec))});
    }
    if (ec) return store_error{store_failure::other, "cannot list " + root_.string() + ": " + ec.message()};
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return out;
  }

  store_result<void> remove(const std::vector<std::string>& keys) override {
    counts_.count(request_counter::kind::remove);
    for (const auto& key : keys) {
      std::error_code ec;
      fs::remove(root_ / key, ec);
      if (ec) return store_error{store_failure::other, "cannot delete " + key + ": " + ec.message()};
    }
    return {};
  }

 private:
  store_result<int> open_object(const std::string& key, const fs::path& path) {
    counts_.count(request_counter::kind::get);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
      return store_error{store_failure::not_found, "no object " + key + " in " + describe()};
    if (fd < 0) return io_error("cannot read", path, errno);
    return fd;
  }

  static store_result<void> copy_from(int fd, std::uint64_t offset, std::vector<char>& piece, const byte_sink& sink,
                                      const std::string& key, const fs::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return io_error("cannot read", path, errno);
    if (offset > static_cast<std::uint64_t>(st.st_size))
      return store_error{store_failure::other,
                         key + ": asked from byte " + std::to_string(offset) + " of " + std::to_string(st.st_size)};
    for (;;) {
      const ssize_t n = ::pread(fd, piece.data(), piece.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read", path, errno);
      if (n == 0) return {};
      offset += static_cast<std::uint64_t>(n);
      if (!sink(std::string_view(piece.data(), static_cast<std::size_t>(n))))
        return store_error{store_failure::other, key + ": download stopped by the reader"};
    }
  }

  fs::path root_;
  request_counter counts_;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace

store_result<std::unique_ptr<object_store>> open_file_store(std::string_view url) {
  constexpr std::string_view scheme = "file://";
  std::string_view path = url.substr(scheme.size());
  if (path.empty() || path.front() != '/')
    return store_error{store_failure::bad_url, "a file replica needs an absolute path: file:///abs/path"};
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  return std::unique_ptr<object_store>(new file_store(fs::path(std::string(path))));
}

}  // namespace monolite::replica
