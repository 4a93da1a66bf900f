// Replays every fuzz corpus file, and every saved regression input, through its target's entry
// function: the seeds and past findings stay covered by ctest (and by the ASan+UBSan build).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/targets.h"
#include "tests/fuzz/text.h"

namespace fs = std::filesystem;

namespace {

const fs::path kFuzzDir = fs::path(REDRESS_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs the target's corpus and regression inputs; a broken property aborts the process
// (FUZZ_CHECK), and ctest reports the test as failed with the input's name in the log.
void replay(std::string_view name) {
  const redress::fuzz::Target* target = nullptr;
  for (const auto& t : redress::fuzz::kTargets)
    if (t.name == name) target = &t;
  REQUIRE(target != nullptr);
  auto inputs = files_in(kFuzzDir / std::string(name));
  REQUIRE(inputs.size() >= 3);  // a missing or emptied corpus folder fails here
  auto regressions = files_in(kFuzzDir / "regressions" / std::string(name));
  inputs.insert(inputs.end(), regressions.begin(), regressions.end());
  for (const auto& file : inputs) {
    std::string bytes = read_file(file);
    UNSCOPED_INFO("input " << file.string());
    std::fprintf(stderr, "replaying %s\n", file.c_str());
    CHECK(target->run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) == 0);
  }
}

}  // namespace

TEST_CASE("fuzz corpus replays: api_body", "[fuzz]") { replay("api_body"); }
TEST_CASE("fuzz corpus replays: intake_mapping", "[fuzz]") { replay("intake_mapping"); }
TEST_CASE("fuzz corpus replays: workflow_toml", "[fuzz]") { replay("workflow_toml"); }
TEST_CASE("fuzz corpus replays: mime", "[fuzz]") { replay("mime"); }
TEST_CASE("fuzz corpus replays: cursor", "[fuzz]") { replay("cursor"); }
TEST_CASE("fuzz corpus replays: http_request", "[fuzz]") { replay("http_request"); }
TEST_CASE("fuzz corpus replays: inbound", "[fuzz]") { replay("inbound"); }

TEST_CASE("the fuzz oracles decode known RFC 2047 and quoted-printable text", "[fuzz]") {
  using namespace redress::fuzz;
  CHECK(decode_encoded_word("=?UTF-8?Q?caf=C3=A9_au_lait?=") == std::optional<std::string>("caf\xC3\xA9 au lait"));
  CHECK(decode_encoded_word("=?UTF-8?B?Y2Fmw6k=?=") == std::optional<std::string>("caf\xC3\xA9"));
  CHECK_FALSE(decode_encoded_word("=?UTF-8?Q?a=2?=").has_value());
  CHECK_FALSE(decode_encoded_word("=?UTF-8?Q?a.b?=").has_value());  // '.' is not phrase-safe
  CHECK(decode_quoted_printable("a=3Db=\r\nc\r\n") == std::optional<std::string>("a=bc\r\n"));
  CHECK(replace_invalid_utf8("a\xC0\xAF") == "a\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK_FALSE(strict_utf8("\xED\xA0\x80"));  // a surrogate
  CHECK(collapse_whitespace("  a \t b  ") == "a b");
}
