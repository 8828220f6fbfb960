#include "support/local_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace bnlab::test {

namespace {
constexpr int kPollMillis = 20;

void send_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t sent = ::send(fd, p, n, MSG_NOSIGNAL);
    if (sent <= 0) return;
    p += sent;
    n -= static_cast<size_t>(sent);
  }
}

// The path of the request's first line ("GET /path HTTP/1.1"), after reading its headers.
std::string read_request_path(int fd) {
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return "";
    request.append(buf, static_cast<size_t>(n));
  }
  const size_t begin = request.find(' ') + 1;
  return request.substr(begin, request.find(' ', begin) - begin);
}
}  // namespace

LocalHttpServer::LocalHttpServer() {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 8) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1");
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

LocalHttpServer::~LocalHttpServer() { stop(); }

void LocalHttpServer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
}

void LocalHttpServer::serve(const std::string& path, Response response) {
  std::lock_guard lock(mutex_);
  routes_[path] = std::move(response);
}

std::string LocalHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

Response LocalHttpServer::response_for(const std::string& path) {
  std::lock_guard lock(mutex_);
  const auto it = routes_.find(path);
  if (it != routes_.end()) return it->second;
  return Response{{'n', 'o', 't', ' ', 'f', 'o', 'u', 'n', 'd'}, 404};
}

void LocalHttpServer::run() {
  pollfd pfd{listener_, POLLIN, 0};
  while (!stopping_) {
    if (::poll(&pfd, 1, kPollMillis) <= 0) continue;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    handle(client);
    ::close(client);
  }
}

void LocalHttpServer::handle(int client) {
  timeval timeout{2, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const std::string path = read_request_path(client);
  ++requests_;
  const Response r = response_for(path);
  const std::string head =
      "HTTP/1.1 " + std::to_string(r.status) + (r.status == 200 ? " OK" : " Error") +
      "\r\nContent-Length: " + std::to_string(r.body.size()) +
      "\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
  send_all(client, head.data(), head.size());
  send_all(client, r.body.data(), std::min(r.body.size(), r.cut_after));
  ::shutdown(client, SHUT_RDWR);
}

}  // namespace bnlab::test
