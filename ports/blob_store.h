// BlobStore: content-addressed bytes — attachments and raw inbound mail.
//
// A blob's key is the lower-case hex SHA-256 of its bytes, so the same file stored twice is kept
// once and a key names its content for ever. put() is durable when it returns: a caller stores the
// key (in a Change, an inbound-mail record) only after put() succeeded, so a stored key always
// names a blob. Blobs live in the database (not the local disk), so every node sharing the
// database sees them. Erasure (personal data) overwrites a blob in place; nothing else changes one.
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress {

struct BlobInfo {
  std::string key;  // hex SHA-256 of the bytes
  std::int64_t size = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Stores the bytes (no-op when already stored) and returns their key. kUnavailable when storage
  // cannot take writes.
  [[nodiscard]] virtual Result<BlobInfo> put_blob(std::string_view bytes) = 0;
  // The bytes under `key`; kNotFound when none.
  [[nodiscard]] virtual Result<std::string> get_blob(const std::string& key) = 0;
};

}  // namespace redress
