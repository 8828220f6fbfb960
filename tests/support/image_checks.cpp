#include "support/image_checks.h"

#include <cairo.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

namespace bnlab::test {

namespace {

struct Reader {
  const std::string* bytes;
  size_t offset = 0;
};

cairo_status_t read_bytes(void* closure, unsigned char* data, unsigned int length) {
  auto* reader = static_cast<Reader*>(closure);
  if (reader->offset + length > reader->bytes->size()) return CAIRO_STATUS_READ_ERROR;
  std::memcpy(data, reader->bytes->data() + reader->offset, length);
  reader->offset += length;
  return CAIRO_STATUS_SUCCESS;
}

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

Surface decode(const std::string& bytes) {
  Reader reader{&bytes};
  Surface surface(cairo_image_surface_create_from_png_stream(read_bytes, &reader), cairo_surface_destroy);
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("PNG does not decode: ") +
                             cairo_status_to_string(cairo_surface_status(surface.get())));
  cairo_surface_flush(surface.get());
  return surface;
}

// ARGB32 / RGB24 pixel as 0xAARRGGBB (premultiplied; the charts are opaque).
uint32_t at(cairo_surface_t* s, int x, int y) {
  const unsigned char* row =
      cairo_image_surface_get_data(s) + static_cast<size_t>(y) * cairo_image_surface_get_stride(s);
  uint32_t v;
  std::memcpy(&v, row + 4 * static_cast<size_t>(x), 4);
  if (cairo_image_surface_get_format(s) == CAIRO_FORMAT_RGB24) v |= 0xff000000u;
  return v;
}

}  // namespace

PngStats png_stats(const std::string& bytes) {
  Surface surface = decode(bytes);
  PngStats stats;
  stats.width = cairo_image_surface_get_width(surface.get());
  stats.height = cairo_image_surface_get_height(surface.get());
  std::set<uint32_t> colours;
  int64_t non_white = 0;
  for (int y = 0; y < stats.height; ++y)
    for (int x = 0; x < stats.width; ++x) {
      const uint32_t v = at(surface.get(), x, y);
      colours.insert(v);
      const int r = (v >> 16) & 0xff, g = (v >> 8) & 0xff, b = v & 0xff;
      non_white += v != 0xffffffffu;
      stats.pure_black += (v & 0xffffff) == 0;
      stats.reddish += r > 153 && g < 90 && b < 90;
    }
  stats.distinct_colours = static_cast<int>(colours.size());
  stats.non_white_fraction =
      static_cast<double>(non_white) / (static_cast<double>(stats.width) * stats.height);
  return stats;
}

Image decode_png(const std::string& bytes) {
  Surface surface = decode(bytes);
  Image image;
  image.width = cairo_image_surface_get_width(surface.get());
  image.height = cairo_image_surface_get_height(surface.get());
  image.pixels.reserve(static_cast<size_t>(image.width) * image.height);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const uint32_t v = at(surface.get(), x, y);
      image.pixels.push_back({static_cast<int>((v >> 16) & 0xff), static_cast<int>((v >> 8) & 0xff),
                              static_cast<int>(v & 0xff)});
    }
  return image;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::string xml_root_name(const std::string& bytes) {
  xmlDocPtr doc =
      xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), "chart.svg", nullptr, XML_PARSE_NONET);
  if (!doc) return "";
  const xmlNode* root = xmlDocGetRootElement(doc);
  std::string name = root ? reinterpret_cast<const char*>(root->name) : "";
  xmlFreeDoc(doc);
  return name;
}

}  // namespace bnlab::test
