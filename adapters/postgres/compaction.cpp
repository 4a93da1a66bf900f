#include "adapters/postgres/compaction.h"

#include "adapters/postgres/connection.h"

namespace redress::postgres {

namespace {

using Milliseconds = std::chrono::milliseconds;

Milliseconds since(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration_cast<Milliseconds>(std::chrono::steady_clock::now() - started);
}

// What the connected role may do, asked once.
struct Rights {
  std::string role;
  std::string database;
  bool superuser = false;
  bool owns_database = false;
  bool checkpoint = false;   // CHECKPOINT: pg_checkpoint (PostgreSQL 15)
  bool list_wal = false;     // pg_ls_waldir(): pg_monitor
  bool switch_wal = false;   // pg_switch_wal(): EXECUTE granted
};

Result<Rights> rights_of(Connection& db) {
  auto rows = db.query_once(
      "SELECT current_user, current_database(), r.rolsuper, pg_has_role(current_user, d.datdba, 'MEMBER'), "
      "pg_has_role(current_user, 'pg_checkpoint', 'MEMBER'), pg_has_role(current_user, 'pg_monitor', 'MEMBER'), "
      "has_function_privilege('pg_switch_wal()', 'EXECUTE') "
      "FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()");
  if (!rows) return rows.error();
  if (rows->empty()) return Error::internal("PostgreSQL did not say who this role is");
  Rights rights{rows->text(0, 0), rows->text(0, 1), rows->boolean(0, 2), rows->boolean(0, 3),
                rows->boolean(0, 4), rows->boolean(0, 5), rows->boolean(0, 6)};
  if (rights.superuser) rights.owns_database = rights.checkpoint = rights.list_wal = rights.switch_wal = true;
  return rights;
}

// "ALTER TABLE ...": an identifier quoted for SQL.
std::string sql_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// One statement that rewrites something, with the lock wait and its failure put in words.
CompactionStep rewrite(Connection& db, const std::string& name, const std::string& sql,
                       std::chrono::seconds lock_timeout) {
  const auto started = std::chrono::steady_clock::now();
  CompactionStep step{name, StepOutcome::kDone, "", {}};
  if (auto done = db.execute(sql); !done) {
    step.outcome = StepOutcome::kFailed;
    step.detail = db.last_sqlstate() == "55P03"
                      ? "it was in use for " + std::to_string(lock_timeout.count()) +
                            " s (a long transaction, or a compaction beside this one): run it again when the desk "
                            "is quieter"
                      : done.error().detail;
  }
  step.took = since(started);
  return step;
}

Result<std::string> single_text(Connection& db, const std::string& sql) {
  auto rows = db.query_once(sql);
  if (!rows) return rows.error();
  if (rows->empty() || rows->is_null(0, 0)) return std::string();
  return rows->text(0, 0);
}

// The WAL segment files in pg_wal, by name (which sorts as the segments do on one timeline).
Result<std::vector<std::string>> wal_segments(Connection& db) {
  auto rows = db.query_once("SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' ORDER BY name");
  if (!rows) return rows.error();
  std::vector<std::string> names;
  for (int i = 0; i < rows->size(); ++i) names.push_back(rows->text(i, 0));
  return names;
}

Status switch_and_checkpoint(Connection& db) {
  if (auto switched = db.query_once("SELECT pg_switch_wal()"); !switched) return switched.error();
  return db.execute("CHECKPOINT");
}

// Step 3: switch and checkpoint until no segment that may hold WAL written before is left as it
// was. `copies_left` gets what PostgreSQL keeps on purpose (wal_keep_size, slots, the archiver).
CompactionStep rewrite_wal(Connection& db, const Rights& rights, std::vector<std::string>& copies_left) {
  const auto started = std::chrono::steady_clock::now();
  CompactionStep step{"the WAL: switched until no segment written before is left", StepOutcome::kDone, "", {}};
  if (!(rights.checkpoint && rights.list_wal && rights.switch_wal)) {
    step.outcome = StepOutcome::kNotPermitted;
    step.detail = "the role " + rights.role +
                  " may not switch the WAL, list it or checkpoint; as a superuser: GRANT pg_checkpoint, pg_monitor "
                  "TO " + sql_identifier(rights.role) + "; GRANT EXECUTE ON FUNCTION pg_switch_wal() TO " +
                  sql_identifier(rights.role) + ";";
    return step;
  }
  auto fail = [&](const Error& error) {
    step.outcome = StepOutcome::kFailed;
    step.detail = error.detail;
    step.took = since(started);
    return step;
  };
  // The segment of the last WAL byte written so far: every change made before is in it or earlier.
  auto written = single_text(db, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  if (!written) return fail(written.error());
  // The first checkpoint recycles (or, with wal_recycle off, removes) the segments before it:
  // recycled ones get later names and keep their old bytes until they are written over.
  if (auto s = switch_and_checkpoint(db); !s) return fail(s.error());
  auto present = wal_segments(db);
  if (!present) return fail(present.error());
  const std::string horizon = present->empty() ? *written : present->back();
  int switches = 1;
  // Each switch writes the current segment to its end; once the current segment is past every name
  // present after the first checkpoint, each of those was written over or removed.
  for (; switches < 2 + static_cast<int>(present->size()); ++switches) {
    auto current = single_text(db, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    if (!current) return fail(current.error());
    if (*current > horizon) break;
    if (auto s = switch_and_checkpoint(db); !s) return fail(s.error());
  }
  auto after = wal_segments(db);
  if (!after) return fail(after.error());
  std::size_t kept = 0;
  for (const auto& name : *after) kept += name <= *written ? 1 : 0;
  step.name = "the WAL: " + std::to_string(switches) + (switches == 1 ? " segment" : " segments") +
              " switched, none written before is left";
  if (kept > 0) {
    auto why = single_text(db,
                        "SELECT concat_ws('; ', 'wal_keep_size = ' || current_setting('wal_keep_size'), "
                        "(SELECT 'replication slots: ' || string_agg(slot_name, ', ') FROM pg_replication_slots), "
                        "CASE WHEN current_setting('archive_mode') <> 'off' THEN 'segments waiting for archive_command' "
                        "END)");
    step.name = "the WAL: " + std::to_string(switches) + (switches == 1 ? " segment" : " segments") + " switched";
    copies_left.push_back(std::to_string(kept) + (kept == 1 ? " WAL segment" : " WAL segments") +
                          " written before the compaction PostgreSQL keeps on purpose (" + (why ? *why : "") +
                          "): they hold the erased data until it lets them go");
  }
  step.took = since(started);
  return step;
}

}  // namespace

const std::vector<std::string>& Compaction::personal_tables() {
  static const std::vector<std::string> tables{"cases",         "events",        "messages",
                                               "message_attachments", "commitments", "redress",
                                               "notifications", "notification_attempts", "inbound_mail",
                                               "client_links",  "blobs"};
  return tables;
}

Result<CompactionReport> Compaction::run(const CompactionProgress& progress) {
  auto opened = Connection::open(url_);
  if (!opened) return opened.error();
  Connection& db = **opened;
  auto recovering = single_text(db, "SELECT pg_is_in_recovery()::text");
  if (!recovering) return recovering.error();
  if (*recovering == "true")
    return Error::invalid("this is a standby (read-only): compact the primary; standbys replay its rewrite");
  auto rights = rights_of(db);
  if (!rights) return rights.error();
  if (auto s = db.execute("SET lock_timeout = '" + std::to_string(lock_timeout_.count()) + "s'"); !s)
    return s.error();

  const auto& tables = personal_tables();
  const std::size_t total = tables.size() + 2;
  CompactionReport report;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const std::string name = "VACUUM (FULL, ANALYZE) " + tables[i];
    if (progress) progress(i, total, name);
    auto owner = db.query_once(
        "SELECT pg_has_role(current_user, c.relowner, 'MEMBER'), pg_get_userbyid(c.relowner) FROM pg_class c "
        "WHERE c.oid = to_regclass($1)",
        Params().add(tables[i]));
    if (!owner) return owner.error();
    if (owner->empty()) {
      report.steps.push_back({name, StepOutcome::kFailed, "there is no such table: run `redress migrate`", {}});
    } else if (!owner->boolean(0, 0)) {
      report.steps.push_back({name, StepOutcome::kNotPermitted,
                              "the table belongs to " + owner->text(0, 1) + ", not to " + rights->role +
                                  ": run `redress compact` as the role that ran `redress migrate`",
                              {}});
    } else {
      CompactionStep step = rewrite(db, name, "VACUUM (FULL, ANALYZE) " + sql_identifier(tables[i]), lock_timeout_);
      // VACUUM FULL leaves the visibility map empty, so every index-only scan of the table would
      // read the heap until autovacuum came by (the touchpoint page went from 32 to 83 ms): a plain
      // VACUUM, which locks nobody out, marks the new pages all-visible at once.
      if (step.outcome == StepOutcome::kDone) {
        const auto started = std::chrono::steady_clock::now();
        if (auto marked = db.execute("VACUUM " + sql_identifier(tables[i])); !marked) {
          step.outcome = StepOutcome::kFailed;
          step.detail = "rewritten, but its pages were not marked all-visible: " + marked.error().detail;
        }
        step.took += since(started);
      }
      report.steps.push_back(std::move(step));
    }
  }

  const std::string statistics = "VACUUM FULL pg_catalog.pg_statistic";
  if (progress) progress(tables.size(), total, statistics);
  if (rights->owns_database) {
    report.steps.push_back(rewrite(db, statistics, statistics, lock_timeout_));
  } else {
    report.steps.push_back({statistics, StepOutcome::kNotPermitted,
                            "only the database's owner or a superuser may rewrite the statistics ANALYZE keeps; "
                            "as a superuser: ALTER DATABASE " + sql_identifier(rights->database) + " OWNER TO " +
                                sql_identifier(rights->role) + ";",
                            {}});
  }

  if (progress) progress(tables.size() + 1, total, "the WAL");
  report.steps.push_back(rewrite_wal(db, *rights, report.copies_left));

  auto archive_mode = single_text(db, "SELECT current_setting('archive_mode')");
  if (!archive_mode) return archive_mode.error();
  if (*archive_mode != "off")
    report.copies_left.push_back(
        "the WAL archive (archive_mode = " + *archive_mode +
        ") keeps the segments written before: expire them, and base backups older than the erasure, by your backup "
        "policy");
  auto standbys = single_text(db, "SELECT count(*)::text FROM pg_stat_replication");
  if (!standbys) return standbys.error();
  if (*standbys != "0")
    report.copies_left.push_back(*standbys + (*standbys == "1" ? " standby replays" : " standbys replay") +
                                 " the rewrite, but keeps WAL of its own until it recycles it");
  if (auto s = db.execute("RESET lock_timeout"); !s) return s.error();
  return report;
}

}  // namespace redress::postgres
