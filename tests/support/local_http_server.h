#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) for the download tests: one connection
// at a time, GET only, canned responses. It serves until destroyed or stop() is called.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bnlab::test {

struct Response {
  std::vector<uint8_t> body;
  int status = 200;
  // Close the connection after this many body bytes although Content-Length promised all.
  size_t cut_after = SIZE_MAX;
};

class LocalHttpServer {
 public:
  LocalHttpServer();
  ~LocalHttpServer();
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  void serve(const std::string& path, Response response);
  std::string url() const;  // "http://127.0.0.1:<port>"
  int requests() const { return requests_; }
  void stop();

 private:
  void run();
  void handle(int client);
  Response response_for(const std::string& path);

  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::map<std::string, Response> routes_;
  std::thread thread_;
};

}  // namespace bnlab::test
