// Fuzz targets: one entry function per input decoder, shared by the libFuzzer executables
// (REDRESS_FUZZ=ON, see docs/fuzzing.md) and the corpus replay test of the normal build.
//
// Each function takes arbitrary bytes, feeds them through the decoder and checks properties of
// the result with FUZZ_CHECK, which aborts on violation (in every build type, unlike assert), so
// the fuzzer reports broken properties as crashes. Every function returns 0 (libFuzzer's "keep").
// The functions keep no state between calls; each call is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace redress::fuzz {

// Aborts with the failed condition and its location: the fuzzer saves the input as a crash.
[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", condition, file, line);
  std::abort();
}
#define FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::redress::fuzz::check_failed(#condition, __FILE__, __LINE__))

// API bodies: the JSON parser, decode_new_case, decode_action and decode_action_fields of every type.
int api_body(const std::uint8_t* data, std::size_t size);
// Intake hooks: a mapping (optional, before a NUL byte) and a payload through map_intake_payload.
int intake_mapping(const std::uint8_t* data, std::size_t size);
// Workflow files: parse_workflow, then the loaded calendar and clocks on fixed instants.
int workflow_toml(const std::uint8_t* data, std::size_t size);
// Mail: RFC 2047 words, display names and compose(), with their line and round-trip properties.
int mime(const std::uint8_t* data, std::size_t size);
// List cursors: decode_cursor, and encode_cursor round trips.
int cursor(const std::uint8_t* data, std::size_t size);
// Inbound mail: parse_message (GMime, libxml2, quoting, classification) and the threader's helpers.
int inbound(const std::uint8_t* data, std::size_t size);
// The whole request path: bytes over a socket to a real server (parser, router, handlers, store).
int http_request(const std::uint8_t* data, std::size_t size);

struct Target {
  std::string_view name;  // also the corpus folder: tests/fuzz/<name>/
  int (*run)(const std::uint8_t*, std::size_t);
};
inline constexpr Target kTargets[] = {
    {"api_body", &api_body}, {"intake_mapping", &intake_mapping}, {"workflow_toml", &workflow_toml}, {"mime", &mime},
    {"cursor", &cursor},     {"http_request", &http_request},
    {"inbound", &inbound},
};

}  // namespace redress::fuzz
