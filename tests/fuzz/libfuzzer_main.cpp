// The libFuzzer entry point of one target, chosen at compile time by REDRESS_FUZZ_TARGET.
#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return redress::fuzz::REDRESS_FUZZ_TARGET(data, size);
}
