#include <string>

#include "adapters/sqlite/rows.h"
#include "tests/fuzz/targets.h"

namespace redress::fuzz {

int cursor(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto id = sqlite::decode_cursor(text);
  if (id) {
    FUZZ_CHECK(*id > 0);
    // Only cursors this server issues decode: one id has exactly one cursor.
    FUZZ_CHECK(sqlite::encode_cursor(*id) == text);
  }
  // Any positive id round trips; the bytes double as an id.
  if (size >= 8) {
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | data[i];
    auto n = static_cast<std::int64_t>(bits & 0x7FFFFFFFFFFFFFFFull);
    if (n > 0) {
      std::string encoded = sqlite::encode_cursor(n);
      FUZZ_CHECK(encoded.size() <= 64);
      auto back = sqlite::decode_cursor(encoded);
      FUZZ_CHECK(back && *back == n);
    }
  }
  return 0;
}

}  // namespace redress::fuzz
