#include "http_download.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "bnlab/data/fetch.h"

namespace bnlab {

namespace {
using Curl = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using File = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

constexpr long kConnectTimeoutSeconds = 30;
constexpr long kStallSeconds = 60;  // give up when under 1 byte/s for this long

size_t write_to_file(char* data, size_t size, size_t count, void* file) {
  return std::fwrite(data, size, count, static_cast<std::FILE*>(file)) * size;
}

Curl new_transfer(const std::string& url, std::FILE* out, char* error_buffer) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Curl curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) throw FetchError("cannot start libcurl");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to_file);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  return curl;
}
}  // namespace

void http_download(const std::string& url, const std::filesystem::path& dest) {
  File out(std::fopen(dest.c_str(), "wb"), &std::fclose);
  if (!out) throw FetchError(fmt::format("{}: cannot create", dest.string()));
  char error_buffer[CURL_ERROR_SIZE] = "";
  Curl curl = new_transfer(url, out.get(), error_buffer);
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK)
    throw FetchError(
        fmt::format("download of {} failed: {} ({})", url, curl_easy_strerror(rc), error_buffer));
  if (std::fclose(out.release()) != 0)
    throw FetchError(fmt::format("{}: write error", dest.string()));
}

}  // namespace bnlab
