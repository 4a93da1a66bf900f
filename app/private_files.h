// Private files: the data directory and what is in it hold personal data and credentials (clients'
// complaints, password and token hashes, raw mail), so they are the service account's only.
//
// `redress` sets its umask to 077 before anything else (app/main.cpp), so whatever it creates —
// the databases and their -wal/-shm files, the search index, the blob file, exports, the lock
// file — is 0600 and its directories 0700, whatever umask it was started with. make_private()
// mends what was made before that, or by hand: an existing data directory and its files.
#pragma once

#include <string>

namespace redress {

// The mode every file Redress creates gets from its umask: owner read/write only.
inline constexpr unsigned kPrivateUmask = 077;

// Sets `directory` to 0700 and each regular file directly in it to at most 0600 (a file's owner
// bits are kept). What cannot be changed (another user's file) is logged as a warning, not fatal.
void make_private(const std::string& directory);

}  // namespace redress
