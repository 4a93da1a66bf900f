#include "adapters/sqlite/credentials_watch.h"

#include "adapters/sqlite/schema.h"

namespace redress::sqlite {

CredentialsWatch::CredentialsWatch(const std::string& path)
    : connection_(std::make_unique<Connection>(path, OpenMode::kReadOnly)), watch_(*connection_) {
  if (auto s = configure_connection(*connection_, Durability::kFull, OpenMode::kReadOnly); !s)
    throw std::runtime_error("cannot configure the credentials' reader: " + s.error().detail);
}

Result<std::int64_t> CredentialsWatch::generation() {
  std::lock_guard lock(mutex_);
  // Read before the statement's snapshot: a commit after this read moves the header again.
  const auto header = watch_.read();
  if (header && seen_ && *header == *seen_) return generation_;
  auto& find = connection_->cached("SELECT value FROM sequences WHERE name = 'credentials'");
  std::int64_t value = 0;
  if (find.step()) value = find.integer(0);
  if (auto s = find.status(); !s) {
    seen_.reset();
    return s.error();
  }
  find.reset();
  generation_ = value;
  seen_ = header;  // nullopt (the shared memory not mapped yet): read again next time
  return generation_;
}

}  // namespace redress::sqlite
