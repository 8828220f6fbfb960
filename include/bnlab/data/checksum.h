#pragma once
// SHA-256 of a file's content.
#include <filesystem>
#include <string>

namespace bnlab {

// SHA-256 of the file's content as 64 lowercase hex digits. A gzip'd file is hashed after
// gunzip, so a raw and a gzip'd copy of the same data have the same checksum. Throws InputError
// naming the file when it cannot be read or its gzip data are corrupt.
std::string content_sha256(const std::filesystem::path& file);

}  // namespace bnlab
