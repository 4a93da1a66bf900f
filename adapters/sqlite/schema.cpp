#include "adapters/sqlite/schema.h"

#include <array>
#include <string>

namespace redress::sqlite {

namespace {

// Migration N brings the schema from version N-1 to N. Never edit a published migration: add one.
constexpr std::array<const char*, 5> kMigrations{
    // 1: cases and their hash-chained history, commitments, redress, messages, the outbox, staff.
    R"sql(
CREATE TABLE sequences (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;

CREATE TABLE staff (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  role          TEXT NOT NULL CHECK (role IN ('intake','agent','lead','manager','admin')),
  team          TEXT NOT NULL DEFAULT '',
  active        INTEGER NOT NULL DEFAULT 1,
  password_hash TEXT,
  created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_role ON staff(role, team);

CREATE TABLE tokens (
  hash       TEXT PRIMARY KEY,
  staff_id   TEXT NOT NULL REFERENCES staff(id),
  label      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE INDEX tokens_staff ON tokens(staff_id);

CREATE TABLE cases (
  id                  INTEGER PRIMARY KEY,
  reference           TEXT NOT NULL UNIQUE,
  client_name         TEXT NOT NULL,
  client_email        TEXT NOT NULL,
  client_phone        TEXT NOT NULL,
  client_locale       TEXT NOT NULL,
  channel             TEXT NOT NULL,
  category            TEXT NOT NULL,
  touchpoint          TEXT NOT NULL,
  subject             TEXT NOT NULL,
  description         TEXT NOT NULL,
  remedy_requested    TEXT NOT NULL,
  severity            TEXT NOT NULL,
  workflow            TEXT NOT NULL,
  team                TEXT NOT NULL,
  status              TEXT NOT NULL,
  clock               TEXT NOT NULL,
  owner_id            TEXT NOT NULL,
  escalation_level    INTEGER NOT NULL,
  outcome             TEXT,
  version             INTEGER NOT NULL,
  head_hash           TEXT NOT NULL,
  received_at         INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  acknowledged_at     INTEGER,
  resolved_at         INTEGER,
  ended_at            INTEGER,
  pending_offers      INTEGER NOT NULL,
  unfulfilled_redress INTEGER NOT NULL,
  rating              INTEGER
) STRICT;
CREATE INDEX cases_owner_status ON cases(owner_id, status);
CREATE INDEX cases_status ON cases(status);
CREATE INDEX cases_workflow ON cases(workflow);
CREATE INDEX cases_team_status ON cases(team, status);

CREATE TABLE events (
  id      INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  seq     INTEGER NOT NULL,
  type    TEXT NOT NULL,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  data    TEXT NOT NULL,
  hash    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX events_case_seq ON events(case_id, seq);

CREATE TABLE commitments (
  id             INTEGER PRIMARY KEY,
  case_id        INTEGER NOT NULL REFERENCES cases(id),
  kind           TEXT NOT NULL,
  text           TEXT NOT NULL,
  due_at         INTEGER NOT NULL,
  owner_id       TEXT NOT NULL,
  client_visible INTEGER NOT NULL,
  status         TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  settled_at     INTEGER,
  note           TEXT NOT NULL,
  replaces_id    INTEGER NOT NULL,
  replaced_by_id INTEGER NOT NULL,
  redress_id     INTEGER NOT NULL
) STRICT;
CREATE INDEX commitments_case ON commitments(case_id);
CREATE INDEX commitments_open_due ON commitments(due_at) WHERE status = 'open';
CREATE INDEX commitments_owner_status ON commitments(owner_id, status);

CREATE TABLE redress (
  id           INTEGER PRIMARY KEY,
  case_id      INTEGER NOT NULL REFERENCES cases(id),
  kind         TEXT NOT NULL,
  amount_minor INTEGER,
  currency     TEXT NOT NULL,
  text         TEXT NOT NULL,
  status       TEXT NOT NULL,
  automatic    INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  decided_at   INTEGER,
  fulfilled_at INTEGER
) STRICT;
CREATE INDEX redress_case ON redress(case_id);

CREATE TABLE messages (
  id         INTEGER PRIMARY KEY,
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  visibility TEXT NOT NULL,
  author     TEXT NOT NULL,
  body       TEXT NOT NULL,
  at         INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_case ON messages(case_id);

-- The outbox: notifications owed, written in the same transaction as the event that owes them.
CREATE TABLE notifications (
  id              INTEGER PRIMARY KEY,
  case_id         INTEGER NOT NULL REFERENCES cases(id),
  event_seq       INTEGER NOT NULL,
  channel         TEXT NOT NULL CHECK (channel IN ('email','webhook')),
  audience        TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  recipient_name  TEXT NOT NULL,
  template        TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until     INTEGER,
  created_at      INTEGER NOT NULL,
  last_error      TEXT
) STRICT;
CREATE INDEX notifications_pending ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_case ON notifications(case_id);

CREATE TABLE idempotency_keys (
  key        TEXT PRIMARY KEY,
  digest     TEXT NOT NULL,
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  created_at INTEGER NOT NULL
) STRICT;
)sql",
    // 2: client links, web hook subscriptions.
    R"sql(
-- A client's private link: the token is derived from the server key and `nonce`; only its hash
-- is stored for look-ups. Revoking a link sets revoked_at; a case has at most one live link.
CREATE TABLE client_links (
  id         INTEGER PRIMARY KEY,
  case_id    INTEGER NOT NULL REFERENCES cases(id),
  nonce      TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE INDEX client_links_case ON client_links(case_id);

CREATE TABLE webhook_subscriptions (
  id            INTEGER PRIMARY KEY,
  url           TEXT NOT NULL,
  event_types   TEXT NOT NULL,   -- JSON array of event types; ["*"] for all
  description   TEXT NOT NULL,
  secret_sealed TEXT NOT NULL,   -- the signing secret, sealed with the server key
  created_at    INTEGER NOT NULL,
  disabled_at   INTEGER,
  disabled_reason TEXT
) STRICT;
)sql",
    // 3: pledges, warnings and handled breaches on commitments; clock fold state; the scheduler's
    // wake times and leases.
    R"sql(
ALTER TABLE commitments ADD COLUMN pledge_key TEXT NOT NULL DEFAULT '';
ALTER TABLE commitments ADD COLUMN warning_times TEXT NOT NULL DEFAULT '';  -- micros, comma-separated
ALTER TABLE commitments ADD COLUMN warnings_fired INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commitments ADD COLUMN handled_at INTEGER;
ALTER TABLE commitments ADD COLUMN handled_note TEXT NOT NULL DEFAULT '';
ALTER TABLE redress ADD COLUMN commitment_id INTEGER NOT NULL DEFAULT 0;
-- The overdue report: open commitments a warning has been raised on; broken ones nobody handled.
CREATE INDEX commitments_at_risk ON commitments(due_at) WHERE status = 'open' AND warnings_fired > 0;
CREATE INDEX commitments_broken_unhandled ON commitments(due_at) WHERE status = 'broken' AND handled_at IS NULL;
-- The standards report: pledges by the time they were met or broken.
CREATE INDEX commitments_pledges_settled ON commitments(settled_at) WHERE kind = 'pledge';

-- Each case's clock fold (engine/clocks.h), so an action folds only its own events.
CREATE TABLE case_clocks (
  case_id INTEGER PRIMARY KEY REFERENCES cases(id),
  state   TEXT NOT NULL
) STRICT;

-- When the scheduler must next look at a case; no row when nothing will fall due.
CREATE TABLE case_wakes (
  case_id INTEGER PRIMARY KEY REFERENCES cases(id),
  wake_at INTEGER NOT NULL
) STRICT;
CREATE INDEX case_wakes_due ON case_wakes(wake_at);

-- Leases: one holder at a time per name (the scheduler; outbox workers), until expires_at.
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
)sql",
    // 4: outbox delivery: web hooks fanned out per subscription, leases, every attempt kept.
    R"sql(
ALTER TABLE notifications ADD COLUMN subscription_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN lease_holder TEXT;
ALTER TABLE notifications ADD COLUMN delivered_at INTEGER;
-- The message as first composed: every retry sends these bytes (the same mail, the same hook body).
ALTER TABLE notifications ADD COLUMN payload TEXT;
DROP INDEX notifications_pending;
CREATE INDEX notifications_pending ON notifications(channel, next_attempt_at) WHERE status = 'pending';
-- In order per recipient: a claim skips a notification whose recipient has an older one pending.
CREATE INDEX notifications_recipient_pending ON notifications(recipient, id) WHERE status = 'pending';
CREATE INDEX notifications_dead ON notifications(id) WHERE status = 'dead';

CREATE TABLE notification_attempts (
  id              INTEGER PRIMARY KEY,
  notification_id INTEGER NOT NULL REFERENCES notifications(id),
  at              INTEGER NOT NULL,
  outcome         TEXT NOT NULL,
  status_code     INTEGER NOT NULL,
  detail          TEXT NOT NULL
) STRICT;
CREATE INDEX notification_attempts_notification ON notification_attempts(notification_id);

-- The managers' daily digest: one row per day and recipient, so each is sent once a day.
CREATE TABLE digests (
  day       TEXT NOT NULL,   -- "2026-03-02"
  recipient TEXT NOT NULL,   -- the staff member's email
  status    TEXT NOT NULL,   -- "pending" until the mail server accepted it, then "sent"
  attempts  INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  detail    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (day, recipient)
) STRICT;
)sql",
    // 5: the pages: staff sign-in sessions and lock-outs; the review board's weekly trends.
    R"sql(
-- A signed-in browser session. The cookie holds the token; only its SHA-256 is stored.
CREATE TABLE staff_sessions (
  token_hash TEXT PRIMARY KEY,
  staff_id   TEXT NOT NULL REFERENCES staff(id),
  csrf       TEXT NOT NULL,   -- every form of the session carries it
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at   INTEGER          -- signed out
) STRICT;
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

-- Failed sign-ins per email address (known or not, so a lock-out tells nobody which exist).
CREATE TABLE sign_in_failures (
  email        TEXT PRIMARY KEY COLLATE NOCASE,
  failures     INTEGER NOT NULL,
  first_at     INTEGER NOT NULL,   -- the first failure of the current window
  locked_until INTEGER
) STRICT;

-- Weekly trends: cases by the time they were received.
CREATE INDEX cases_received ON cases(received_at, category, touchpoint);
)sql",
};

}  // namespace

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

Result<int> schema_version(Connection& connection) {
  auto statement = connection.prepare("PRAGMA user_version");
  if (!statement) return statement.error();
  if (!statement->step()) return statement->status().ok() ? Error::internal("no user_version") : statement->status().error();
  return static_cast<int>(statement->integer(0));
}

Result<MigrationReport> migrate(Connection& connection) {
  auto version = schema_version(connection);
  if (!version) return version.error();
  MigrationReport report{*version, *version};
  int latest = latest_schema_version();
  if (*version > latest)
    return Error::invalid("the database " + connection.path() + " has schema version " + std::to_string(*version) +
                          ", newer than this redress knows (" + std::to_string(latest) +
                          "); it was left untouched. Run a newer redress.");
  for (int next = *version + 1; next <= latest; ++next) {
    if (auto s = connection.exec("BEGIN IMMEDIATE"); !s) return s.error();
    Status applied = connection.exec(kMigrations[static_cast<std::size_t>(next - 1)]);
    if (applied) applied = connection.exec("PRAGMA user_version = " + std::to_string(next));
    if (!applied) {
      (void)connection.exec("ROLLBACK");
      return Error::internal("migration to schema version " + std::to_string(next) + " failed: " + applied.error().detail);
    }
    if (auto s = connection.exec("COMMIT"); !s) return s.error();
    report.to = next;
  }
  return report;
}

Status configure_connection(Connection& connection, Durability durability, OpenMode mode) {
  std::string pragmas =
      "PRAGMA busy_timeout = 10000;"
      "PRAGMA foreign_keys = ON;"
      "PRAGMA temp_store = MEMORY;"
      "PRAGMA cache_size = -65536;"       // 64 MiB of page cache per connection
      "PRAGMA mmap_size = 268435456;";    // reads through a 256 MiB memory map
  if (mode == OpenMode::kReadWrite) {
    pragmas +=
        "PRAGMA journal_mode = WAL;"
        "PRAGMA wal_autocheckpoint = 0;"       // the store checkpoints itself, off the commit path
        "PRAGMA journal_size_limit = 67108864;";  // a truncated WAL is kept at most 64 MiB
    pragmas += durability == Durability::kFull ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
  } else {
    pragmas += "PRAGMA query_only = ON;";
  }
  return connection.exec(pragmas);
}

}  // namespace redress::sqlite
