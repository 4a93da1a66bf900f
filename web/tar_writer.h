// TarWriter: a POSIX ustar archive built in memory — the format every system can open (`tar xf`,
// file managers, 7-Zip) without a library on either side. Regular files only.
//
// Names are paths inside the archive ("files/CMP-2026-000001/m-4/receipt.pdf"); a name longer than
// ustar's 100 bytes is split at a '/' into its 155-byte prefix. Thread-compatible: one writer per
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress::web {

class TarWriter {
 public:
  // Adds a file (mode 0600, `mtime` in seconds since 1970). kInvalid when the name cannot be
  // stored (empty, absolute, "..", or too long for ustar).
  [[nodiscard]] Status add(const std::string& name, std::string_view bytes, std::int64_t mtime);
  // The archive so far, closed with its two zero blocks. Call once, last.
  [[nodiscard]] std::string finish();

  [[nodiscard]] std::size_t files() const { return files_; }

 private:
  std::string out_;
  std::size_t files_ = 0;
};

// A file name safe as one path component: '/', '\\', control characters and leading dots replaced,
// at most 80 bytes (cut on a UTF-8 boundary); "file" when nothing is left.
[[nodiscard]] std::string safe_component(std::string_view name);

}  // namespace redress::web
