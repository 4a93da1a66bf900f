// Disk faults on a real file system (issue 7): `redress serve` with its data directory on a small
// tmpfs that is filled up, and on an ext4 image that the kernel turns read-only (as it does after
// a disk error, errors=remount-ro). Writes must be refused with 503 problem+json saying why, with
// Retry-After and one log line however many are refused; reads must still be served; /healthz says
// "degraded"; writes resume once space returns; nothing is corrupt (`redress audit verify`,
// PRAGMA integrity_check). Mounting needs root (CAP_SYS_ADMIN): without it each test says why it
// is skipped and passes.
#include <sqlite3.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "web/support.h"

using namespace redress::webtest;

namespace {

// The output of a shell command, and whether it exited 0.
struct Shell {
  bool ok = false;
  std::string output;
};

Shell shell(const std::string& command) {
  Shell result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  result.ok = ::pclose(pipe) == 0;
  return result;
}

bool on_path_shell(const std::string& program) { return shell("command -v " + program).ok; }

// A file system mounted on `point` for the test; unmounted (lazily, so that nothing left inside
// can keep it) when destroyed.
class Mount {
 public:
  // Not mounted() when it could not be mounted, with the reason in why().
  Mount(const fs::path& point, const std::string& options_and_source) : point_(point) {
    fs::create_directories(point_);
    auto mounted = shell("mount " + options_and_source + " " + point_.string());
    mounted_ = mounted.ok;
    why_ = mounted.output;
  }
  ~Mount() {
    if (mounted_) (void)shell("umount -l " + point_.string());
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] const std::string& why() const { return why_; }
  [[nodiscard]] const fs::path& point() const { return point_; }

 private:
  fs::path point_;
  bool mounted_ = false;
  std::string why_;
};

bool can_mount(std::string& why) {
  if (::geteuid() != 0) {
    why = "not root: mounting a tmpfs or an ext4 image for the data directory needs CAP_SYS_ADMIN";
    return false;
  }
  return true;
}

// Fills the file system at `dir` until a write fails with ENOSPC; returns the filler files.
std::vector<fs::path> fill(const fs::path& dir) {
  std::vector<fs::path> fillers{dir / "filler", dir / "filler-tail"};
  struct statvfs vfs {};
  REQUIRE(::statvfs(dir.c_str(), &vfs) == 0);
  off_t room = static_cast<off_t>(vfs.f_bavail) * static_cast<off_t>(vfs.f_frsize);
  int fd = ::open(fillers[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  if (room > 0) (void)::posix_fallocate(fd, 0, room);
  ::close(fd);
  // Whatever fallocate left (block rounding): written a page at a time until the disk says no.
  fd = ::open(fillers[1].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  std::string page(4096, 'x');
  int written = 0;
  while (::write(fd, page.data(), page.size()) == static_cast<ssize_t>(page.size()) && written < 100000) ++written;
  REQUIRE(errno == ENOSPC);
  ::close(fd);
  return fillers;
}

// Waits until the writer has checkpointed and truncated the WAL (it does when idle for 0.5 s), so
// that the next commit must allocate new space.
void wait_wal_truncated(const fs::path& data) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    std::error_code ec;
    auto size = fs::file_size(data / "redress.db-wal", ec);
    if (!ec && size == 0) return;
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("the WAL was not truncated within 20 s (" << size << " bytes)");
    std::this_thread::sleep_for(50ms);
  }
}

std::string integrity(const fs::path& database) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK);
  std::string result;
  while (sqlite3_step(stmt) == SQLITE_ROW) result += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

std::vector<std::string> references(const fs::path& database) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT reference FROM cases ORDER BY id", -1, &stmt, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  while (sqlite3_step(stmt) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A refused write: 503 problem+json with Retry-After, saying `why`.
void require_refused(const HttpResponse& r, const std::string& why) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 503);
  CHECK(r.header("content-type") == "application/problem+json");
  CHECK(!r.header("retry-after").empty());
  CHECK(string_at(r.json(), "detail").find(why) != std::string::npos);
}

}  // namespace

TEST_CASE("disk faults: a full disk refuses writes with 503, reads go on, writes resume when space returns", "[disk]") {
  std::string why;
  if (!can_mount(why)) {
    WARN("skipped: " << why);
    return;
  }
  TempDir scratch;
  Mount disk(scratch.path() / "mnt", "-t tmpfs -o size=8m tmpfs");
  if (!disk.mounted()) {
    WARN("skipped: cannot mount a tmpfs: " << disk.why());
    return;
  }
  RedressServer server(ServerSetup{}, disk.point() / "data");
  Client agent(server.port(), server.token("agent"));
  Client anyone(server.port());

  auto created = agent.post("/v1/cases", new_case_body());
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  const std::string version = created.header("etag");
  const std::string client_token = link_token(string_at(created.json(), "client_url"));
  wait_wal_truncated(server.data_dir());

  auto fillers = fill(disk.point());
  require_refused(agent.post("/v1/cases", new_case_body("Refused while the disk is full")), "the disk is full");
  require_refused(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "acknowledge"}},
                             {{"If-Match", version}}),
                  "the disk is full");
  // A flood of refused writes: still one log line (they are rate-limited to one per 10 s).
  for (int i = 0; i < 20; ++i) REQUIRE(agent.post("/v1/cases", new_case_body("Flood")).status == 503);

  // Reads are served: the case, the list, the history, the client's link.
  auto read = agent.get("/v1/cases/" + reference);
  REQUIRE(read.status == 200);
  CHECK(read.header("etag") == version);
  CHECK(agent.get("/v1/cases").status == 200);
  CHECK(agent.get("/v1/cases/" + reference + "/events").status == 200);
  CHECK(anyone.get("/v1/client/" + client_token).status == 200);
  auto health = anyone.get("/healthz");
  REQUIRE(health.status == 200);
  CHECK(string_at(health.json(), "status") == "degraded");
  CHECK(string_at(health.json(), "writes").find("the disk is full") != std::string::npos);
  std::string log = server.log();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(count_of(log, "store: writes refused") == 1);
  CHECK(count_of(log, "the disk is full") >= 1);

  // Space returns: writes work again, at once.
  for (const auto& f : fillers) fs::remove(f);
  auto after = agent.post("/v1/cases", new_case_body("After the disk had room again"));
  INFO(after.body);
  REQUIRE(after.status == 201);
  auto acted = agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "acknowledge"}},
                          {{"If-Match", version}});
  INFO(acted.body);
  REQUIRE(acted.status == 200);
  health = anyone.get("/healthz");
  CHECK(string_at(health.json(), "status") == "ok");
  CHECK(!as_object(health.json()).contains("writes"));
  CHECK(server.log().find("store: writes succeed again") != std::string::npos);

  REQUIRE(server.terminate() == 0);
  auto audit = server.run({"audit", "verify"});
  INFO(audit.output);
  CHECK(audit.status == 0);
  CHECK(integrity(server.database()) == "ok");
  // The refused creations left nothing, not even a gap in the references.
  auto refs = references(server.database());
  REQUIRE(refs.size() == 2);
  CHECK(refs[0] == reference);
  CHECK(refs[1] == string_at(after.json(), "reference"));
  CHECK(refs[1].substr(refs[1].size() - 6) == "000002");
}

TEST_CASE("disk faults: a database whose file system turns read-only refuses writes with 503 and serves reads",
          "[disk]") {
  std::string why;
  if (!can_mount(why)) {
    WARN("skipped: " << why);
    return;
  }
  if (!on_path_shell("mkfs.ext4") || !on_path_shell("e2fsck")) {
    WARN("skipped: mkfs.ext4 and e2fsck (e2fsprogs) are needed for the ext4 image");
    return;
  }
  TempDir scratch;
  const fs::path image = scratch.path() / "ext4.img";
  const fs::path point = scratch.path() / "mnt";
  REQUIRE(shell("truncate -s 32M " + image.string() + " && mkfs.ext4 -q -F " + image.string()).ok);
  auto disk = std::make_unique<Mount>(point, "-o loop,errors=remount-ro " + image.string());
  if (!disk->mounted()) {
    WARN("skipped: cannot mount an ext4 image on a loop device: " << disk->why());
    return;
  }
  const fs::path data = disk->point() / "data";
  // The kernel's switch for what a disk error does to ext4 (with errors=remount-ro: read-only).
  auto device = shell("findmnt -n -o SOURCE " + disk->point().string());
  REQUIRE(device.ok);
  const fs::path trigger = fs::path("/sys/fs/ext4") / fs::path(trim(device.output)).filename() / "trigger_fs_error";
  if (!fs::exists(trigger)) {
    WARN("skipped: this kernel has no " << trigger.string());
    return;
  }

  std::string reference, version;
  {
    RedressServer server(ServerSetup{}, data);
    Client agent(server.port(), server.token("agent"));
    Client anyone(server.port());
    auto created = agent.post("/v1/cases", new_case_body());
    REQUIRE(created.status == 201);
    reference = string_at(created.json(), "reference");
    version = created.header("etag");

    // As after a disk error: the file system goes read-only under the running server.
    { std::ofstream(trigger) << "1\n"; }
    REQUIRE(shell("touch " + (disk->point() / "probe").string()).ok == false);
    // The kernel aborts the journal at once and remounts read-only from a work queue; wait for
    // the file system to say "ro".
    bool read_only = false;
    for (int i = 0; i < 100 && !read_only; ++i) {
      auto options = shell("findmnt -n -o FS-OPTIONS " + disk->point().string());  // the superblock's
      // Linux 6.x marks the superblock "emergency_ro" and leaves "rw" in place.
      read_only = options.ok && (options.output.rfind("ro", 0) == 0 ||
                                 options.output.find("emergency_ro") != std::string::npos);
      if (!read_only) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(read_only);

    // The kernel reports the fault one of two ways, by timing: the write is refused as read-only;
    // or an earlier write reached the page cache and its sync failed (EIO, or EROFS), after which
    // the store accepts no write until it is restarted (wal_syncer.h). Either way every write is
    // refused with 503 and reads go on.
    auto first = agent.post("/v1/cases", new_case_body("Refused on a read-only disk"));
    const bool sync_failed = first.status == 503 && string_at(first.json(), "detail").find("sync") != std::string::npos;
    const std::string why = sync_failed ? "disk" : "the database is read-only";
    INFO((sync_failed ? "the kernel failed a sync" : "the kernel refused the write as read-only"));
    require_refused(first, why);
    require_refused(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "acknowledge"}},
                               {{"If-Match", version}}),
                    sync_failed ? "no write is accepted until redress is restarted" : why);
    auto read = agent.get("/v1/cases/" + reference);
    REQUIRE(read.status == 200);
    CHECK(read.header("etag") == version);
    CHECK(agent.get("/v1/cases").status == 200);
    // An action the lifecycle refuses writes nothing: its empty commit succeeds even on this
    // disk, and must not be taken for writes working again. (After a failed sync nothing is
    // tried: it is refused as every write is.)
    CHECK(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "close"}}).status ==
          (sync_failed ? 503 : 409));
    auto health = anyone.get("/healthz");
    REQUIRE(health.status == 200);
    CHECK(string_at(health.json(), "status") == "degraded");
    CHECK(string_at(health.json(), "writes").find(sync_failed ? "restarted" : "read-only") != std::string::npos);
    if (sync_failed)
      CHECK(server.log().find("no write is accepted until redress is restarted") != std::string::npos);
    else
      CHECK(count_of(server.log(), "store: writes refused") == 1);
    // It still stops cleanly (its last checkpoint fails, which loses nothing).
    CHECK(server.terminate() == 0);
    CHECK(server.log().find("store: writes succeed again") == std::string::npos);

    // Repaired (e2fsck) and mounted again: the same server on the same data writes again.
    disk.reset();
    auto repaired = shell("e2fsck -fy " + image.string());
    INFO(repaired.output);
    disk = std::make_unique<Mount>(point, "-o loop,errors=remount-ro " + image.string());
    REQUIRE(disk->mounted());
    REQUIRE(fs::exists(data / "redress.db"));
    server.restart();
    Client again(server.port(), server.token("agent"));
    auto acted = again.post("/v1/cases/" + reference + "/actions", json::object{{"action", "acknowledge"}},
                            {{"If-Match", version}});
    INFO(acted.body);
    REQUIRE(acted.status == 200);
    REQUIRE(server.terminate() == 0);
    auto audit = server.run({"audit", "verify"});
    INFO(audit.output);
    CHECK(audit.status == 0);
  }
  CHECK(integrity(data / "redress.db") == "ok");
  CHECK(references(data / "redress.db") == std::vector<std::string>{reference});
}
