// StoreAccess: what the store's role classes (CaseQueries, StaffRecords, SignInRecords,
// OutboxRecords, ReportQueries, SchedulerRecords) read and write through: the pool of read-only
// connections, the writer's queue (for the administrative writes, which return once durable) and
// the clock. It refers to parts SqliteStore owns, which outlive the role classes.
//
// Thread-safe as its parts are: any thread.
#pragma once

#include "adapters/sqlite/reader_pool.h"
#include "adapters/sqlite/write_pipeline.h"
#include "engine/clock.h"

namespace redress::sqlite {

struct StoreAccess {
  ReaderPool& readers;
  WritePipeline& writer;
  const Clock& clock;
};

}  // namespace redress::sqlite
