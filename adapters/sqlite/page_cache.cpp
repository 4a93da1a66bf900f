#include "adapters/sqlite/page_cache.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <set>

namespace redress::sqlite {

namespace {

sqlite3_pcache_methods2 g_inner{};  // pcache1, set once before SQLite is initialised
std::atomic<long long> g_forwarded{0}, g_skipped{0};

// One cache: pcache1's, and a bound on the keys it holds. Invariant: every key present is at most
// max(created, the largest of renumbered).
struct Cache {
  sqlite3_pcache* inner = nullptr;
  unsigned created = 0;           // the largest key created (or fetched to create) and not truncated
  std::set<unsigned> renumbered;  // keys pages were renumbered to, above `created`, still held
  [[nodiscard]] unsigned bound() const {
    return renumbered.empty() ? created : std::max(created, *renumbered.rbegin());
  }
  // Keys at or below `created` are covered by it.
  void fold() { renumbered.erase(renumbered.begin(), renumbered.upper_bound(created)); }
};

Cache* of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int x_init(void*) { return g_inner.xInit(g_inner.pArg); }
void x_shutdown(void*) {
  if (g_inner.xShutdown) g_inner.xShutdown(g_inner.pArg);
}

sqlite3_pcache* x_create(int page_size, int extra_size, int purgeable) {
  sqlite3_pcache* inner = g_inner.xCreate(page_size, extra_size, purgeable);
  if (!inner) return nullptr;
  auto* cache = new (std::nothrow) Cache;
  if (!cache) {
    g_inner.xDestroy(inner);
    return nullptr;
  }
  cache->inner = inner;
  return reinterpret_cast<sqlite3_pcache*>(cache);
}

void x_cachesize(sqlite3_pcache* p, int pages) { g_inner.xCachesize(of(p)->inner, pages); }
int x_pagecount(sqlite3_pcache* p) { return g_inner.xPagecount(of(p)->inner); }

sqlite3_pcache_page* x_fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* cache = of(p);
  sqlite3_pcache_page* page = g_inner.xFetch(cache->inner, key, create);
  if (create && page && key > cache->created) {
    cache->created = key;
    cache->fold();
  }
  return page;
}

void x_unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) { g_inner.xUnpin(of(p)->inner, page, discard); }

void x_rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* cache = of(p);
  g_inner.xRekey(cache->inner, page, old_key, new_key);
  cache->renumbered.erase(old_key);  // keys are unique: nothing holds old_key any more
  if (new_key > cache->created) cache->renumbered.insert(new_key);
}

void x_truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* cache = of(p);
  if (cache->bound() < limit) {
    ++g_skipped;  // no key at or above the limit: nothing to drop
    return;
  }
  ++g_forwarded;
  g_inner.xTruncate(cache->inner, limit);
  // Every key at or above the limit is gone.
  if (limit > 0)
    cache->created = std::min(cache->created, limit - 1);
  else
    cache->created = 0;
  cache->renumbered.erase(cache->renumbered.lower_bound(limit), cache->renumbered.end());
  cache->fold();
}

void x_destroy(sqlite3_pcache* p) {
  Cache* cache = of(p);
  g_inner.xDestroy(cache->inner);
  delete cache;
}

void x_shrink(sqlite3_pcache* p) { g_inner.xShrink(of(p)->inner); }

sqlite3_pcache_methods2 g_wrapper{};

}  // namespace

bool install_page_cache() {
  sqlite3_pcache_methods2 inner{};
  // Before initialisation this yields pcache1's methods; after it, SQLITE_MISUSE.
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner) != SQLITE_OK || !inner.xFetch) return false;
  if (inner.iVersion < 1 || !inner.xRekey || !inner.xTruncate) return false;
  g_inner = inner;
  g_wrapper = sqlite3_pcache_methods2{1,       nullptr, x_init,  x_shutdown, x_create,  x_cachesize, x_pagecount,
                                      x_fetch, x_unpin, x_rekey, x_truncate, x_destroy, x_shrink};
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &g_wrapper) == SQLITE_OK;
}

PageCacheCounters page_cache_counters() { return PageCacheCounters{g_forwarded.load(), g_skipped.load()}; }

}  // namespace redress::sqlite
