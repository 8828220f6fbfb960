#include "bnlab/plot/output.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "bnlab/core/error.h"

namespace bnlab::plot {

ImageFormat image_format_for(const std::filesystem::path& out) {
  std::string ext = out.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return ImageFormat::Png;
  if (ext == ".svg") return ImageFormat::Svg;
  throw InputError(fmt::format("{}: unknown image format '{}' (use .png or .svg)", out.string(),
                               out.extension().string()));
}

void write_image_file(const std::filesystem::path& out, const std::string& bytes) {
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!file) throw InputError(fmt::format("{}: cannot write: {}", out.string(), std::strerror(errno)));
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) throw InputError(fmt::format("{}: write failed", out.string()));
}

}  // namespace bnlab::plot
