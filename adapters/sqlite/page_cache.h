// The page cache every connection of this process uses: SQLite's own (pcache1), with one cost
// taken off every commit.
//
// At the end of each write transaction SQLite truncates its page cache above the database's size
// (pager_end_transaction). pcache1 does so by walking its whole hash table (a slot per cached page:
// 16,384 with the writer's 64 MiB) whenever the largest key it has ever held lies further above the
// limit than it has slots. SQLite 3.40's b-tree balancing renumbers pages through a scratch page
// number (the lock-byte page, 262,145 with 4 KiB pages), so after almost any insert that splits a
// page that largest key is far above the limit, and every commit walked the whole table (about 7%
// of the writer under small HTTP groups). This wrapper forwards every call to pcache1 and keeps
// its own bound on the keys present: the largest key created, and the keys pages were renumbered
// to above it until they are renumbered away. A truncation with nothing at or above its limit is
// skipped; any other is forwarded as it was.
//
// Installed once per process, before SQLite is first used (SQLITE_CONFIG_PCACHE2); if SQLite was
// already initialised by then, pcache1 stays as it is. Each cache is used by one connection at a
// time, as SQLite guarantees for its page caches.
#pragma once

namespace redress::sqlite {

// Installs the wrapper; true when it is in place (false: SQLite was already initialised).
bool install_page_cache();

// Truncations forwarded to pcache1 and skipped, since the process started (for tests).
struct PageCacheCounters {
  long long truncations_forwarded = 0;
  long long truncations_skipped = 0;
};
[[nodiscard]] PageCacheCounters page_cache_counters();

}  // namespace redress::sqlite
