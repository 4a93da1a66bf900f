// The "redress-wal" SQLite VFS: the default (unix) VFS, except that a WAL file gathers the
// frames of a commit and writes them with one pwrite instead of two per page.
//
// SQLite writes each WAL frame as two writes (its 24-byte header, then the page), so a commit of
// N pages costs 2N system calls before its sync. This VFS keeps contiguous writes to a WAL file
// in a buffer and writes the buffer out when the commit frame's page arrives (a frame header
// whose "database size after commit" is not zero), and before anything that must see the file
// as SQLite believes it is: a sync, a read, a size query, a truncation, a file control, a close,
// a write elsewhere in the file, or 1 MiB gathered. So a commit is in the file before SQLite
// publishes it in the wal-index (readers read frames through their own descriptors), and it
// is synced exactly as SQLite asks; a write error surfaces from the write or sync that flushes,
// with the code the unix VFS gives it (SQLITE_FULL on a full disk), and SQLite rolls back as it
// would have. Other files (the database, journals) pass straight through.
//
// Thread-safety: registration happens once (thread-safe); a file is used by one connection at a
// time, as SQLite guarantees.
#pragma once

namespace redress::sqlite {

// Registers the VFS on first use and returns its name, for sqlite3_open_v2.
[[nodiscard]] const char* wal_vfs_name();

}  // namespace redress::sqlite
