// The erasure ledger of an installation (web/erasure_ledger.h): `erasure-ledger` in the data
// directory, for the commands and the server. Not thread-safe to open; the ledger itself is.
#pragma once

#include <string>

#include "app/config.h"
#include "web/erasure_ledger.h"

namespace redress {

[[nodiscard]] std::string erasure_ledger_path(const Config& config);
// Opens (creating the data directory and the ledger when missing) the installation's ledger.
[[nodiscard]] Result<web::ErasureLedger> open_erasure_ledger(const Config& config);
// Opens the configured store and makes again the ledger's erasures it lacks (web/privacy.h:
// reapply_ledger); how many cases were erased or restricted.
[[nodiscard]] Result<std::int64_t> reapply_erasure_ledger(const Config& config);

}  // namespace redress
