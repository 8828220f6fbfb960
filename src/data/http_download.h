#pragma once
#include <filesystem>
#include <string>

namespace bnlab {

// Downloads url (http or https, following redirects) to dest. Throws FetchError naming the URL
// when the transfer fails or is cut short; dest may then hold a partial file.
void http_download(const std::string& url, const std::filesystem::path& dest);

}  // namespace bnlab
