// ErasureLedger: the list of erasure requests kept beside the database, so that an erasure survives
// the restore of a backup taken before it (docs/personal-data.md).
//
// A text file (`erasure-ledger` in the data directory, mode 0600): a first line with a random salt
// of the installation, then one line per erasure request with its time and SHA-256(salt || the
// lower-case email address) - never the address. An erasure appends (and syncs) its line before it
// erases anything. After a restore, `redress serve` at start-up and `redress import` re-apply every
// line the database does not record: the restored cases of those clients are erased (or restricted)
// again. Keep the ledger out of the backups you restore, or restore the newest ledger with them.
//
// Thread-safe: appends take a mutex and are single write(2) calls with O_APPEND, so processes
// appending at once never interleave a line.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace redress::web {

struct LedgerEntry {
  Time at{};
  std::string email_hash;  // hex
};

class ErasureLedger {
 public:
  // The ledger at `path`, created (with a new salt) when missing. kUnavailable when it cannot be
  // read or created; kInvalid when the file is not a ledger.
  [[nodiscard]] static Result<ErasureLedger> open(const std::string& path);
  ErasureLedger(ErasureLedger&& other) noexcept : path_(std::move(other.path_)), salt_(std::move(other.salt_)) {}

  [[nodiscard]] const std::string& salt() const { return salt_; }  // hex
  // SHA-256(salt bytes || lower-case `email`), hex.
  [[nodiscard]] std::string hash_email(const std::string& email) const;
  // Appends an erasure request and syncs the file.
  [[nodiscard]] Status append(const LedgerEntry& entry);
  // Every request recorded, oldest first.
  [[nodiscard]] Result<std::vector<LedgerEntry>> entries() const;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  ErasureLedger(std::string path, std::string salt) : path_(std::move(path)), salt_(std::move(salt)) {}
  std::string path_;
  std::string salt_;
  std::mutex mutex_;
};

// The salted hash of an address as an erasure record keeps it: SHA-256(salt bytes || lower-case
// email), hex; "" when `salt_hex` is not hex.
[[nodiscard]] std::string salted_email_hash(const std::string& salt_hex, const std::string& email);

}  // namespace redress::web
