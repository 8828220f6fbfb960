// The SHA-256 of a data file's content, after gunzip for .gz files.
#include "bnlab/data/checksum.h"

#include <gtest/gtest.h>

#include "support/data_files.h"

namespace bnlab {
namespace {

TEST(ContentSha256, MatchesTheStandardTestVector) {
  test::TempDir dir;
  test::write_file(dir.path() / "abc", {'a', 'b', 'c'});
  EXPECT_EQ(content_sha256(dir.path() / "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ContentSha256, HashesGzipFilesAfterGunzip) {
  test::TempDir dir;
  test::write_file(dir.path() / "abc.gz", test::gzip({'a', 'b', 'c'}));
  EXPECT_EQ(content_sha256(dir.path() / "abc.gz"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace bnlab
