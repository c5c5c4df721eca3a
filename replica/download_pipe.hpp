// Downloads one object on a thread of its own and hands its bytes over in pieces, in order, so
// that a restore decompresses and writes while the next bytes arrive. At most `max_pieces` pieces
// wait to be taken: memory stays bounded whatever the object's size.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "replica/object_store.hpp"

namespace monolite::replica {

class download_pipe {
 public:
  download_pipe(object_store& store, std::string key, std::size_t max_pieces = 8);
  ~download_pipe();  // stops the download if it is still running
  download_pipe(const download_pipe&) = delete;
  download_pipe& operator=(const download_pipe&) = delete;

  // The next piece; an empty optional once the object has been read to its end; the store's
  // error if the download failed.
  store_result<std::optional<std::string>> next();

 private:
  bool push(std::string_view piece);  // on the download thread; false once the reader left

  std::size_t max_pieces_;
  std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  std::deque<std::string> pieces_;
  std::optional<store_result<void>> finished_;  // set by the download thread when get_to returns
  bool abandoned_ = false;                      // the reader is gone
  std::thread thread_;
};

}  // namespace monolite::replica
