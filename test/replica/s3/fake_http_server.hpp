// A scripted HTTP/1.1 server on a loopback port for the S3 client's tests: blocking sockets, a thread
// per connection. Either every reply is "200 OK" with the request's number as its body and a
// `behaviour` picks the failure to simulate, or a `responder` writes each reply. It keeps the head
// (request line and headers) of every request. Everything it starts stops in the destructor.
#pragma once
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace monolite::test {

class fake_http_server {
 public:
  enum class behaviour {
    keep_alive,               // answer every request, keep the connection open
    close_on_second_request,  // answer the first request of a connection; at the second, close unanswered
    close_without_reply,      // read each request and close the connection unanswered
    never_reply,              // read each request and stay silent
  };

  // The whole HTTP response (status line, headers, body) to a request's head and body.
  using responder = std::function<std::string(const std::string& head, const std::string& body)>;

  explicit fake_http_server(responder respond) : fake_http_server(behaviour::keep_alive, std::move(respond)) {}

  explicit fake_http_server(behaviour b, responder respond = {}) : behaviour_(b), respond_(std::move(respond)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 64);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~fake_http_server() {
    stopping_ = true;
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : connections_)
      t.join();
    ::close(listener_);
  }

  fake_http_server(const fake_http_server&) = delete;
  fake_http_server& operator=(const fake_http_server&) = delete;

  std::string port() const { return std::to_string(port_); }
  int connections() const { return accepted_; }
  int requests() const { return requests_; }
  std::vector<std::string> heads() const {
    std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  // Waits up to 50 ms for `fd` to be readable; false while nothing came (or when stopping).
  bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return !stopping_ && ::poll(&p, 1, 50) > 0;
  }

  void accept_loop() {
    while (!stopping_) {
      if (!readable(listener_)) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++accepted_;
      std::lock_guard lock(mutex_);
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Reads one request (head and Content-Length body) from `pending` and the socket; false on EOF or stop.
  bool read_request(int fd, std::string& pending, std::string& head, std::string& body) {
    for (;;) {
      const auto end = pending.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const auto at = pending.find("Content-Length: ");
        if (at != std::string::npos && at < end) length = std::stoul(pending.substr(at + 16));
        if (pending.size() >= end + 4 + length) {
          head = pending.substr(0, end);
          body = pending.substr(end + 4, length);
          pending.erase(0, end + 4 + length);
          return true;
        }
      }
      if (stopping_) return false;
      if (!readable(fd)) continue;
      char chunk[65536];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      pending.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void serve(int fd) {
    std::string pending, head, body;
    for (int on_connection = 1; read_request(fd, pending, head, body); ++on_connection) {
      const int number = ++requests_;
      {
        std::lock_guard lock(mutex_);
        heads_.push_back(head);
      }
      if (behaviour_ == behaviour::close_without_reply) break;
      if (behaviour_ == behaviour::close_on_second_request && on_connection == 2) break;
      if (behaviour_ == behaviour::never_reply) {
        while (!stopping_)
          readable(fd);
        break;
      }
      const std::string count = std::to_string(number);
      const std::string reply = respond_ ? respond_(head, body)
                                         : "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(count.size()) +
                                               "\r\nETag: \"e" + count + "\"\r\n\r\n" + count;
      ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    ::close(fd);
  }

  behaviour behaviour_;
  responder respond_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> heads_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

}  // namespace monolite::test
