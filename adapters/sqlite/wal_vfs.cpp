#include "adapters/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

namespace redress::sqlite {

namespace {

constexpr int kFrameHeaderSize = 24;                    // WAL_FRAME_HDRSIZE
constexpr std::size_t kFlushAt = std::size_t{1} << 20;  // bytes gathered before a write regardless
// The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length to 17 bits, and a
// longer write comes out short, as if the disk were full): the buffer goes out in 64 KiB pieces.
constexpr std::size_t kWriteChunk = std::size_t{1} << 16;

sqlite3_vfs* g_real = nullptr;  // the default VFS, set once before registration
sqlite3_vfs* real_vfs() { return g_real; }

// Our file: SQLite allocates szOsFile bytes; the real file lives right after this header.
struct File {
  sqlite3_file base;                  // first: SQLite sees this
  sqlite3_file* real;                 // the unix VFS's file
  bool wal = false;                   // gathers writes
  std::vector<unsigned char> buffer;  // contiguous bytes not yet written, from buffer_offset
  sqlite3_int64 buffer_offset = 0;
  bool commit_frame = false;  // the last write was a commit frame's header: flush after its page
};

constexpr std::size_t kFileHeader = (sizeof(File) + 7) & ~std::size_t{7};

File* of(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
sqlite3_file* real_of(sqlite3_file* file) { return of(file)->real; }
const sqlite3_io_methods* m(sqlite3_file* file) { return real_of(file)->pMethods; }

int flush(File* f) {
  if (f->buffer.empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < f->buffer.size() && rc == SQLITE_OK; done += kWriteChunk) {
    std::size_t piece = std::min(kWriteChunk, f->buffer.size() - done);
    rc = f->real->pMethods->xWrite(f->real, f->buffer.data() + done, static_cast<int>(piece),
                                   f->buffer_offset + static_cast<sqlite3_int64>(done));
  }
  // Written or not, the bytes are SQLite's to write again: it rolls back and rewrites on failure.
  f->buffer.clear();
  f->commit_frame = false;
  return rc;
}

int x_close(sqlite3_file* file) {
  File* f = of(file);
  int flushed = flush(f);
  int rc = m(file)->xClose(f->real);
  f->~File();
  return flushed != SQLITE_OK ? flushed : rc;
}

int x_read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  if (int rc = flush(of(file)); rc != SQLITE_OK) return rc;
  return m(file)->xRead(real_of(file), data, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = of(file);
  if (!f->wal) return m(file)->xWrite(f->real, data, amount, offset);
  if (!f->buffer.empty() && offset != f->buffer_offset + static_cast<sqlite3_int64>(f->buffer.size())) {
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  if (f->buffer.empty()) f->buffer_offset = offset;
  const auto* bytes = static_cast<const unsigned char*>(data);
  f->buffer.insert(f->buffer.end(), bytes, bytes + amount);
  if (amount == kFrameHeaderSize) {
    // Bytes 4-7 of a frame header: the database size after a commit, zero for other frames.
    f->commit_frame = bytes[4] != 0 || bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0;
    return SQLITE_OK;
  }
  if (f->commit_frame || f->buffer.size() >= kFlushAt) return flush(f);
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int rc = flush(of(file)); rc != SQLITE_OK) return rc;
  return m(file)->xTruncate(real_of(file), size);
}

int x_sync(sqlite3_file* file, int flags) {
  if (int rc = flush(of(file)); rc != SQLITE_OK) return rc;
  return m(file)->xSync(real_of(file), flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  if (int rc = flush(of(file)); rc != SQLITE_OK) return rc;
  return m(file)->xFileSize(real_of(file), size);
}

int x_lock(sqlite3_file* file, int lock) { return m(file)->xLock(real_of(file), lock); }
int x_unlock(sqlite3_file* file, int lock) { return m(file)->xUnlock(real_of(file), lock); }
int x_check_reserved_lock(sqlite3_file* file, int* out) { return m(file)->xCheckReservedLock(real_of(file), out); }

int x_file_control(sqlite3_file* file, int op, void* arg) {
  if (int rc = flush(of(file)); rc != SQLITE_OK) return rc;
  return m(file)->xFileControl(real_of(file), op, arg);
}

int x_sector_size(sqlite3_file* file) { return m(file)->xSectorSize(real_of(file)); }
int x_device_characteristics(sqlite3_file* file) { return m(file)->xDeviceCharacteristics(real_of(file)); }
int x_shm_map(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  return m(file)->xShmMap(real_of(file), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  return m(file)->xShmLock(real_of(file), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) { m(file)->xShmBarrier(real_of(file)); }
int x_shm_unmap(sqlite3_file* file, int delete_flag) { return m(file)->xShmUnmap(real_of(file), delete_flag); }
int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  if (int rc = flush(of(file)); rc != SQLITE_OK) return rc;
  return m(file)->xFetch(real_of(file), offset, amount, out);
}
int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return m(file)->xUnfetch(real_of(file), offset, page);
}

// One table per version of the real methods, so that SQLite sees exactly what the real file offers.
sqlite3_io_methods methods_like(const sqlite3_io_methods& real) {
  sqlite3_io_methods ours{};
  ours.iVersion = real.iVersion;
  ours.xClose = x_close;
  ours.xRead = x_read;
  ours.xWrite = x_write;
  ours.xTruncate = x_truncate;
  ours.xSync = x_sync;
  ours.xFileSize = x_file_size;
  ours.xLock = x_lock;
  ours.xUnlock = x_unlock;
  ours.xCheckReservedLock = x_check_reserved_lock;
  ours.xFileControl = x_file_control;
  ours.xSectorSize = x_sector_size;
  ours.xDeviceCharacteristics = x_device_characteristics;
  if (real.iVersion >= 2) {
    ours.xShmMap = real.xShmMap ? x_shm_map : nullptr;
    ours.xShmLock = real.xShmLock ? x_shm_lock : nullptr;
    ours.xShmBarrier = real.xShmBarrier ? x_shm_barrier : nullptr;
    ours.xShmUnmap = real.xShmUnmap ? x_shm_unmap : nullptr;
  }
  if (real.iVersion >= 3) {
    ours.xFetch = real.xFetch ? x_fetch : nullptr;
    ours.xUnfetch = real.xUnfetch ? x_unfetch : nullptr;
  }
  return ours;
}

// The unix VFS gives every file of one kind the same methods; a few kinds at most.
std::mutex methods_mutex;
// A deque: its elements never move, and files point at them until the process ends.
std::deque<std::pair<const sqlite3_io_methods*, sqlite3_io_methods>> methods_cache;

const sqlite3_io_methods* methods_for(const sqlite3_io_methods* real) {
  std::lock_guard lock(methods_mutex);
  for (auto& [from, to] : methods_cache)
    if (from == real) return &to;
  methods_cache.emplace_back(real, methods_like(*real));
  return &methods_cache.back().second;
}

int v_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* real = real_vfs();
  File* f = new (file) File{};
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kFileHeader);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = real->xOpen(real, name, f->real, flags, out_flags);
  if (f->real->pMethods == nullptr) {
    f->~File();
    return rc;
  }
  f->base.pMethods = methods_for(f->real->pMethods);  // SQLite calls xClose even if rc failed
  return rc;
}

int v_delete(sqlite3_vfs*, const char* name, int sync_dir) { return real_vfs()->xDelete(real_vfs(), name, sync_dir); }
int v_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs()->xAccess(real_vfs(), name, flags, out);
}
int v_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return real_vfs()->xFullPathname(real_vfs(), name, size, out);
}
void* v_dl_open(sqlite3_vfs*, const char* name) { return real_vfs()->xDlOpen(real_vfs(), name); }
void v_dl_error(sqlite3_vfs*, int size, char* out) { real_vfs()->xDlError(real_vfs(), size, out); }
void (*v_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return real_vfs()->xDlSym(real_vfs(), handle, symbol);
}
void v_dl_close(sqlite3_vfs*, void* handle) { real_vfs()->xDlClose(real_vfs(), handle); }
int v_randomness(sqlite3_vfs*, int size, char* out) { return real_vfs()->xRandomness(real_vfs(), size, out); }
int v_sleep(sqlite3_vfs*, int micros) { return real_vfs()->xSleep(real_vfs(), micros); }
int v_current_time(sqlite3_vfs*, double* out) { return real_vfs()->xCurrentTime(real_vfs(), out); }
int v_get_last_error(sqlite3_vfs*, int size, char* out) { return real_vfs()->xGetLastError(real_vfs(), size, out); }
int v_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) { return real_vfs()->xCurrentTimeInt64(real_vfs(), out); }

}  // namespace

const char* wal_vfs_name() {
  static const char* name = [] {
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    if (!real || real->iVersion < 2) throw std::runtime_error("SQLite has no default VFS of version 2 or later");
    g_real = real;
    static sqlite3_vfs ours{};
    ours.iVersion = 2;  // the system-call hooks of version 3 are for SQLite's own tests
    ours.szOsFile = static_cast<int>(kFileHeader) + real->szOsFile;
    ours.mxPathname = real->mxPathname;
    ours.zName = "redress-wal";
    ours.pAppData = real;
    ours.xOpen = v_open;
    ours.xDelete = v_delete;
    ours.xAccess = v_access;
    ours.xFullPathname = v_full_pathname;
    ours.xDlOpen = v_dl_open;
    ours.xDlError = v_dl_error;
    ours.xDlSym = v_dl_sym;
    ours.xDlClose = v_dl_close;
    ours.xRandomness = v_randomness;
    ours.xSleep = v_sleep;
    ours.xCurrentTime = v_current_time;
    ours.xGetLastError = v_get_last_error;
    ours.xCurrentTimeInt64 = v_current_time_int64;
    if (sqlite3_vfs_register(&ours, 0) != SQLITE_OK) throw std::runtime_error("cannot register the redress-wal VFS");
    return ours.zName;
  }();
  return name;
}

}  // namespace redress::sqlite
