// The blob store (adapters/sqlite/blob_store.h) on real files: content addressing, dedup,
// durability across reopening, its own 0600 file beside the database, and the Store forwarding.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "adapters/sqlite/blob_store.h"
#include "app/environment.h"
#include "engine/hash_chain.h"
#include "support/files.h"

using namespace redress;
using testing::TempDir;

namespace {

std::int64_t row_count(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM blobs", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  std::int64_t count = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

// Bytes that are not text: every byte value, NULs included, and more than a page.
std::string binary_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + 7) % 256);
  return bytes;
}

}  // namespace

TEST_CASE("blobs: a put returns the SHA-256 key, a get returns the same bytes, twice is one row", "[blobs]") {
  TempDir dir;
  const std::string path = (dir.path() / "redress-blobs.db").string();
  auto store = sqlite::SqliteBlobStore::open(path);
  REQUIRE(store.ok());
  const std::string bytes = binary_bytes(300000);
  auto put = (*store)->put_blob(bytes);
  REQUIRE(put.ok());
  CHECK(put->key == sha256_hex(bytes));
  CHECK(put->size == 300000);
  auto again = (*store)->put_blob(bytes);
  REQUIRE(again.ok());
  CHECK(again->key == put->key);
  auto got = (*store)->get_blob(put->key);
  REQUIRE(got.ok());
  CHECK(*got == bytes);
  auto empty = (*store)->put_blob("");
  REQUIRE(empty.ok());
  CHECK((*store)->get_blob(empty->key).value().empty());
  auto missing = (*store)->get_blob(sha256_hex("never stored"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  store->reset();
  CHECK(row_count(path) == 2);
}

TEST_CASE("blobs: what a put stored is there after reopening, and the file is the owner's only", "[blobs]") {
  TempDir dir;
  const std::string path = (dir.path() / "redress-blobs.db").string();
  std::string key;
  {
    auto store = sqlite::SqliteBlobStore::open(path);
    REQUIRE(store.ok());
    key = (*store)->put_blob("the letter, scanned").value().key;
  }
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  auto store = sqlite::SqliteBlobStore::open(path);
  REQUIRE(store.ok());
  CHECK((*store)->get_blob(key).value() == "the letter, scanned");
}

TEST_CASE("blobs: puts and gets from several threads at once each find their bytes", "[blobs][concurrency]") {
  TempDir dir;
  auto store = sqlite::SqliteBlobStore::open((dir.path() / "b.db").string());
  REQUIRE(store.ok());
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string bytes = "thread " + std::to_string(t) + " file " + std::to_string(i % 10);
        auto put = (*store)->put_blob(bytes);
        if (!put.ok() || (*store)->get_blob(put->key).value() != bytes) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::vector<int>(4, 0));
}

TEST_CASE("blobs: the store keeps them in redress-blobs.db beside redress.db, not in the case database", "[blobs]") {
  TempDir dir;
  Config config;
  config.data_dir = dir.path().string();
  config.workflows = REDRESS_SOURCE_DIR "/workflows";
  OpenOptions options;
  options.migrate_if_needed = true;
  options.search_indexing = sqlite::SearchIndexing::kOnRequest;
  auto env = open_environment(config, options);
  REQUIRE(env.ok());
  BlobStore& blobs = *(*env)->store;
  auto put = blobs.put_blob("a photograph of the broken gate");
  REQUIRE(put.ok());
  CHECK(blobs.get_blob(put->key).value() == "a photograph of the broken gate");
  CHECK(sqlite::SqliteBlobStore::path_for(config.database_path()) == (dir.path() / "redress-blobs.db").string());
  CHECK(row_count((dir.path() / "redress-blobs.db").string()) == 1);
}
