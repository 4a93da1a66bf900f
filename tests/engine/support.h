// Shared support for the engine tests: instants written as RFC 3339 text. Header-only, like the
// other folders' support headers; usable from any thread except for its REQUIRE.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "engine/time.h"

namespace redress::enginetest {

// The instant `text` names ("2026-03-08T09:00:00Z"); REQUIREs that it parses.
inline Time at(const std::string& text) {
  auto t = parse_time(text);
  INFO(text);
  REQUIRE(t.has_value());
  return *t;
}

}  // namespace redress::enginetest
