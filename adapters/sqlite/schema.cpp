#include "adapters/sqlite/schema.h"

#include <array>
#include <string>

#include "adapters/sqlite/summaries.h"

namespace redress::sqlite {

namespace {

// Migration N brings the schema from version N-1 to N. Never edit a published migration: add one.
// (The report summaries' first rows are not in the SQL: apply_migration fills them.)
constexpr std::array<const char*, 22> kMigrations{
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
    // 6: report summaries kept exact by triggers, so the reports and the board read a few hundred
    // rows instead of every case and commitment.
    R"sql(
-- Each summary row counts the rows whose contribution falls in it. Triggers take a row's old
-- contribution away and add its new one in the same statement that changes the row, so every
-- summary always equals the GROUP BY it replaces (tests/adapters/report_summaries_test.cpp checks
-- this), whichever node wrote. Days are UTC days since the epoch (micros / 86400000000).

-- Commitments kept or broken, by the day they settled, owner, kind, status and pledge (for kind
-- pledge: "workflow/clock", the pledge key without its run number).
CREATE TABLE report_settled (
  day      INTEGER NOT NULL,
  owner_id TEXT NOT NULL,
  kind     TEXT NOT NULL,
  status   TEXT NOT NULL,
  pledge   TEXT NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (day, owner_id, kind, status, pledge)
) STRICT, WITHOUT ROWID;

-- Cases by the day they were received and their owner: acknowledged and resolved ones, with the
-- sums of the times they took.
CREATE TABLE report_owner_cases (
  day               INTEGER NOT NULL,
  owner_id          TEXT NOT NULL,
  acknowledged      INTEGER NOT NULL,
  acknowledge_total INTEGER NOT NULL,
  resolved          INTEGER NOT NULL,
  resolve_total     INTEGER NOT NULL,
  PRIMARY KEY (day, owner_id)
) STRICT, WITHOUT ROWID;

-- Cases by the day they were received, per category and per touchpoint.
CREATE TABLE report_received (
  day       INTEGER NOT NULL,
  dimension TEXT NOT NULL,   -- 'category' or 'touchpoint'
  value     TEXT NOT NULL,
  received  INTEGER NOT NULL,
  PRIMARY KEY (day, dimension, value)
) STRICT, WITHOUT ROWID;

-- Filled from the rows by fill_summary after this SQL (kFilledSummaries).

CREATE TRIGGER report_settled_insert AFTER INSERT ON commitments
WHEN new.status IN ('kept','broken') AND new.settled_at IS NOT NULL BEGIN
  INSERT INTO report_settled(day, owner_id, kind, status, pledge, n)
  VALUES (new.settled_at / 86400000000, new.owner_id, new.kind, new.status, CASE WHEN new.kind = 'pledge' THEN substr(new.pledge_key, 1, instr(new.pledge_key, '#') - 1) ELSE '' END, 1)
  ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER report_settled_update AFTER UPDATE OF owner_id, kind, status, settled_at, pledge_key ON commitments
WHEN old.owner_id IS NOT new.owner_id OR old.kind IS NOT new.kind OR old.status IS NOT new.status
  OR old.settled_at IS NOT new.settled_at OR old.pledge_key IS NOT new.pledge_key BEGIN
  UPDATE report_settled SET n = n - 1
  WHERE old.status IN ('kept','broken') AND old.settled_at IS NOT NULL AND day = old.settled_at / 86400000000
    AND owner_id = old.owner_id AND kind = old.kind AND status = old.status AND pledge = CASE WHEN old.kind = 'pledge' THEN substr(old.pledge_key, 1, instr(old.pledge_key, '#') - 1) ELSE '' END;
  INSERT INTO report_settled(day, owner_id, kind, status, pledge, n)
  SELECT new.settled_at / 86400000000, new.owner_id, new.kind, new.status, CASE WHEN new.kind = 'pledge' THEN substr(new.pledge_key, 1, instr(new.pledge_key, '#') - 1) ELSE '' END, 1
  WHERE new.status IN ('kept','broken') AND new.settled_at IS NOT NULL
  ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER report_settled_delete AFTER DELETE ON commitments
WHEN old.status IN ('kept','broken') AND old.settled_at IS NOT NULL BEGIN
  UPDATE report_settled SET n = n - 1 WHERE day = old.settled_at / 86400000000 AND owner_id = old.owner_id AND kind = old.kind
    AND status = old.status AND pledge = CASE WHEN old.kind = 'pledge' THEN substr(old.pledge_key, 1, instr(old.pledge_key, '#') - 1) ELSE '' END;
END;

CREATE TRIGGER report_cases_insert AFTER INSERT ON cases BEGIN
  INSERT INTO report_owner_cases(day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total)
  VALUES (new.received_at / 86400000000, new.owner_id, new.acknowledged_at IS NOT NULL, coalesce(new.acknowledged_at - new.received_at, 0),
          new.resolved_at IS NOT NULL, coalesce(new.resolved_at - new.received_at, 0))
  ON CONFLICT DO UPDATE SET acknowledged = acknowledged + excluded.acknowledged,
    acknowledge_total = acknowledge_total + excluded.acknowledge_total, resolved = resolved + excluded.resolved,
    resolve_total = resolve_total + excluded.resolve_total;
  INSERT INTO report_received(day, dimension, value, received) VALUES (new.received_at / 86400000000, 'category', new.category, 1)
  ON CONFLICT DO UPDATE SET received = received + 1;
  INSERT INTO report_received(day, dimension, value, received) VALUES (new.received_at / 86400000000, 'touchpoint', new.touchpoint, 1)
  ON CONFLICT DO UPDATE SET received = received + 1;
END;
CREATE TRIGGER report_owner_cases_update AFTER UPDATE OF owner_id, received_at, acknowledged_at, resolved_at ON cases
WHEN old.owner_id IS NOT new.owner_id OR old.received_at IS NOT new.received_at
  OR old.acknowledged_at IS NOT new.acknowledged_at OR old.resolved_at IS NOT new.resolved_at BEGIN
  UPDATE report_owner_cases SET acknowledged = acknowledged - (old.acknowledged_at IS NOT NULL),
    acknowledge_total = acknowledge_total - coalesce(old.acknowledged_at - old.received_at, 0),
    resolved = resolved - (old.resolved_at IS NOT NULL), resolve_total = resolve_total - coalesce(old.resolved_at - old.received_at, 0)
  WHERE day = old.received_at / 86400000000 AND owner_id = old.owner_id;
  INSERT INTO report_owner_cases(day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total)
  VALUES (new.received_at / 86400000000, new.owner_id, new.acknowledged_at IS NOT NULL, coalesce(new.acknowledged_at - new.received_at, 0),
          new.resolved_at IS NOT NULL, coalesce(new.resolved_at - new.received_at, 0))
  ON CONFLICT DO UPDATE SET acknowledged = acknowledged + excluded.acknowledged,
    acknowledge_total = acknowledge_total + excluded.acknowledge_total, resolved = resolved + excluded.resolved,
    resolve_total = resolve_total + excluded.resolve_total;
END;
CREATE TRIGGER report_received_update AFTER UPDATE OF received_at, category, touchpoint ON cases
WHEN old.received_at IS NOT new.received_at OR old.category IS NOT new.category OR old.touchpoint IS NOT new.touchpoint BEGIN
  UPDATE report_received SET received = received - 1
  WHERE day = old.received_at / 86400000000 AND ((dimension = 'category' AND value = old.category) OR (dimension = 'touchpoint' AND value = old.touchpoint));
  INSERT INTO report_received(day, dimension, value, received) VALUES (new.received_at / 86400000000, 'category', new.category, 1)
  ON CONFLICT DO UPDATE SET received = received + 1;
  INSERT INTO report_received(day, dimension, value, received) VALUES (new.received_at / 86400000000, 'touchpoint', new.touchpoint, 1)
  ON CONFLICT DO UPDATE SET received = received + 1;
END;
CREATE TRIGGER report_cases_delete AFTER DELETE ON cases BEGIN
  UPDATE report_owner_cases SET acknowledged = acknowledged - (old.acknowledged_at IS NOT NULL),
    acknowledge_total = acknowledge_total - coalesce(old.acknowledged_at - old.received_at, 0),
    resolved = resolved - (old.resolved_at IS NOT NULL), resolve_total = resolve_total - coalesce(old.resolved_at - old.received_at, 0)
  WHERE day = old.received_at / 86400000000 AND owner_id = old.owner_id;
  UPDATE report_received SET received = received - 1
  WHERE day = old.received_at / 86400000000 AND ((dimension = 'category' AND value = old.category) OR (dimension = 'touchpoint' AND value = old.touchpoint));
END;
-- The trends index of migration 5 is no longer read.
DROP INDEX cases_received;
)sql",
    // 7: the pages at 100,000 cases: partial indexes of what is still open, and a trigram index
    // for substring search.
    R"sql(
-- Open cases by owner (work lists, the owners' open counts) and by escalation level (the board).
CREATE INDEX cases_open_owner ON cases(owner_id, escalation_level, received_at)
  WHERE status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed');
-- A case's next due time; per owner: open, at-risk and broken-unhandled commitments, oldest due first.
CREATE INDEX commitments_open_case ON commitments(case_id, due_at) WHERE status = 'open';
CREATE INDEX commitments_open_owner ON commitments(owner_id, due_at) WHERE status = 'open';
CREATE INDEX commitments_at_risk_owner ON commitments(owner_id, due_at) WHERE status = 'open' AND warnings_fired > 0;
CREATE INDEX commitments_broken_owner ON commitments(owner_id, due_at) WHERE status = 'broken' AND handled_at IS NULL;
-- Attainment of the standards: the pledge rows of the settled summary.
CREATE INDEX report_settled_pledges ON report_settled(kind, day, pledge, status, n);

-- Substring search over reference, subject, client name and email: a trigram index narrows the
-- candidates, the LIKE test on the row decides (list_cases), so results are exactly the LIKE's.
CREATE VIRTUAL TABLE cases_text USING fts5(reference, subject, client_name, client_email,
  content='cases', content_rowid='id', tokenize='trigram');
INSERT INTO cases_text(cases_text) VALUES ('rebuild');
CREATE TRIGGER cases_text_insert AFTER INSERT ON cases BEGIN
  INSERT INTO cases_text(rowid, reference, subject, client_name, client_email)
  VALUES (new.id, new.reference, new.subject, new.client_name, new.client_email);
END;
CREATE TRIGGER cases_text_update AFTER UPDATE OF reference, subject, client_name, client_email ON cases BEGIN
  INSERT INTO cases_text(cases_text, rowid, reference, subject, client_name, client_email)
  VALUES ('delete', old.id, old.reference, old.subject, old.client_name, old.client_email);
  INSERT INTO cases_text(rowid, reference, subject, client_name, client_email)
  VALUES (new.id, new.reference, new.subject, new.client_name, new.client_email);
END;
CREATE TRIGGER cases_text_delete AFTER DELETE ON cases BEGIN
  INSERT INTO cases_text(cases_text, rowid, reference, subject, client_name, client_email)
  VALUES ('delete', old.id, old.reference, old.subject, old.client_name, old.client_email);
END;
)sql",
    // 8: counters of what is open now, kept exact by triggers like migration 6's summaries, so the
    // board and the owners' report need no scan of the open work.
    R"sql(
-- Open cases per owner and escalation level.
CREATE TABLE report_open (
  owner_id         TEXT NOT NULL,
  escalation_level INTEGER NOT NULL,
  open_cases       INTEGER NOT NULL,
  PRIMARY KEY (owner_id, escalation_level)
) STRICT, WITHOUT ROWID;
-- Per owner: open commitments, those at risk (a warning raised) and broken ones nobody handled.
CREATE TABLE report_attention (
  owner_id         TEXT PRIMARY KEY,
  open_commitments INTEGER NOT NULL,
  at_risk          INTEGER NOT NULL,
  broken_unhandled INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- Pledges kept or broken by the day they settled (the standards' attainment).
CREATE TABLE report_pledges (
  day    INTEGER NOT NULL,
  pledge TEXT NOT NULL,
  status TEXT NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (day, pledge, status)
) STRICT, WITHOUT ROWID;
-- The oldest open case of each escalation level.
CREATE INDEX cases_open_level ON cases(escalation_level, received_at) WHERE status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed');
DROP INDEX report_settled_pledges;

-- Filled from the rows by fill_summary after this SQL (kFilledSummaries).

CREATE TRIGGER report_open_insert AFTER INSERT ON cases WHEN new.status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed') BEGIN
  INSERT INTO report_open VALUES (new.owner_id, new.escalation_level, 1) ON CONFLICT DO UPDATE SET open_cases = open_cases + 1;
END;
CREATE TRIGGER report_open_update AFTER UPDATE OF status, owner_id, escalation_level ON cases
WHEN old.status IS NOT new.status OR old.owner_id IS NOT new.owner_id OR old.escalation_level IS NOT new.escalation_level BEGIN
  UPDATE report_open SET open_cases = open_cases - 1
  WHERE old.status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed') AND owner_id = old.owner_id AND escalation_level = old.escalation_level;
  INSERT INTO report_open SELECT new.owner_id, new.escalation_level, 1 WHERE new.status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed')
  ON CONFLICT DO UPDATE SET open_cases = open_cases + 1;
END;
CREATE TRIGGER report_open_delete AFTER DELETE ON cases WHEN old.status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed') BEGIN
  UPDATE report_open SET open_cases = open_cases - 1 WHERE owner_id = old.owner_id AND escalation_level = old.escalation_level;
END;

CREATE TRIGGER report_attention_insert AFTER INSERT ON commitments BEGIN
  INSERT INTO report_attention VALUES (new.owner_id, new.status = 'open', new.status = 'open' AND new.warnings_fired > 0, new.status = 'broken' AND new.handled_at IS NULL)
  ON CONFLICT DO UPDATE SET open_commitments = open_commitments + excluded.open_commitments,
    at_risk = at_risk + excluded.at_risk, broken_unhandled = broken_unhandled + excluded.broken_unhandled;
END;
CREATE TRIGGER report_attention_update AFTER UPDATE OF owner_id, status, warnings_fired, handled_at ON commitments
WHEN old.owner_id IS NOT new.owner_id OR old.status IS NOT new.status OR old.warnings_fired IS NOT new.warnings_fired
  OR old.handled_at IS NOT new.handled_at BEGIN
  UPDATE report_attention SET open_commitments = open_commitments - (old.status = 'open'), at_risk = at_risk - (old.status = 'open' AND old.warnings_fired > 0),
    broken_unhandled = broken_unhandled - (old.status = 'broken' AND old.handled_at IS NULL) WHERE owner_id = old.owner_id;
  INSERT INTO report_attention VALUES (new.owner_id, new.status = 'open', new.status = 'open' AND new.warnings_fired > 0, new.status = 'broken' AND new.handled_at IS NULL)
  ON CONFLICT DO UPDATE SET open_commitments = open_commitments + excluded.open_commitments,
    at_risk = at_risk + excluded.at_risk, broken_unhandled = broken_unhandled + excluded.broken_unhandled;
END;
CREATE TRIGGER report_attention_delete AFTER DELETE ON commitments BEGIN
  UPDATE report_attention SET open_commitments = open_commitments - (old.status = 'open'), at_risk = at_risk - (old.status = 'open' AND old.warnings_fired > 0),
    broken_unhandled = broken_unhandled - (old.status = 'broken' AND old.handled_at IS NULL) WHERE owner_id = old.owner_id;
END;

CREATE TRIGGER report_pledges_insert AFTER INSERT ON commitments
WHEN new.kind = 'pledge' AND new.status IN ('kept','broken') AND new.settled_at IS NOT NULL BEGIN
  INSERT INTO report_pledges VALUES (new.settled_at / 86400000000, substr(new.pledge_key, 1, instr(new.pledge_key, '#') - 1), new.status, 1)
  ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER report_pledges_update AFTER UPDATE OF kind, status, settled_at, pledge_key ON commitments
WHEN old.kind IS NOT new.kind OR old.status IS NOT new.status OR old.settled_at IS NOT new.settled_at
  OR old.pledge_key IS NOT new.pledge_key BEGIN
  UPDATE report_pledges SET n = n - 1
  WHERE old.kind = 'pledge' AND old.status IN ('kept','broken') AND old.settled_at IS NOT NULL AND day = old.settled_at / 86400000000
    AND pledge = substr(old.pledge_key, 1, instr(old.pledge_key, '#') - 1) AND status = old.status;
  INSERT INTO report_pledges SELECT new.settled_at / 86400000000, substr(new.pledge_key, 1, instr(new.pledge_key, '#') - 1), new.status, 1
  WHERE new.kind = 'pledge' AND new.status IN ('kept','broken') AND new.settled_at IS NOT NULL
  ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER report_pledges_delete AFTER DELETE ON commitments
WHEN old.kind = 'pledge' AND old.status IN ('kept','broken') AND old.settled_at IS NOT NULL BEGIN
  UPDATE report_pledges SET n = n - 1 WHERE day = old.settled_at / 86400000000
    AND pledge = substr(old.pledge_key, 1, instr(old.pledge_key, '#') - 1) AND status = old.status;
END;
)sql",
    // 9: two indexes of migration 7 that migration 8's counters made unread; each cost every write.
    R"sql(
DROP INDEX cases_open_owner;
DROP INDEX commitments_open_owner;
)sql",
    // 10: the trigram index leaves the write path. Indexing a case alone cost more than all its
    // other rows; a new case now only joins search_pending, and the writer indexes the pending cases
    // in batches (SqliteStore::index_pending_search), three to five times cheaper a case
    // (about 100 µs in the trigger, 20–35 µs in a batch, measured under load). A search
    // tests the pending cases as well as the index's candidates, so its results stay exact.
    R"sql(
CREATE TABLE search_pending (
  case_id INTEGER PRIMARY KEY  -- a case not yet in cases_text
) STRICT;
DROP TRIGGER cases_text_insert;
DROP TRIGGER cases_text_update;
DROP TRIGGER cases_text_delete;
CREATE TRIGGER search_pending_insert AFTER INSERT ON cases BEGIN
  INSERT INTO search_pending(case_id) VALUES (new.id);
END;
-- A pending case is indexed with the values it has when its turn comes; an indexed one follows
-- each change of its text.
CREATE TRIGGER cases_text_update AFTER UPDATE OF reference, subject, client_name, client_email ON cases
WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE case_id = old.id) BEGIN
  INSERT INTO cases_text(cases_text, rowid, reference, subject, client_name, client_email)
  VALUES ('delete', old.id, old.reference, old.subject, old.client_name, old.client_email);
  INSERT INTO cases_text(rowid, reference, subject, client_name, client_email)
  VALUES (new.id, new.reference, new.subject, new.client_name, new.client_email);
END;
CREATE TRIGGER cases_text_delete AFTER DELETE ON cases BEGIN
  INSERT INTO cases_text(cases_text, rowid, reference, subject, client_name, client_email)
  SELECT 'delete', old.id, old.reference, old.subject, old.client_name, old.client_email
  WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE case_id = old.id);
  DELETE FROM search_pending WHERE case_id = old.id;
END;
)sql",
    // 11: the trigram index moves to a file of its own (search_index.h): its merges held this
    // database's write lock for tens of milliseconds at a time, longer as it grew. Here stays what
    // it lacks: a case created, renamed or deleted is pending, its generation moving at each
    // change, until a round of indexing has written that generation. Every case is pending once,
    // for the new file.
    R"sql(
DROP TRIGGER cases_text_update;
DROP TRIGGER cases_text_delete;
DROP TABLE cases_text;
ALTER TABLE search_pending ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
INSERT INTO search_pending(case_id) SELECT id FROM cases WHERE true ON CONFLICT(case_id) DO NOTHING;
CREATE TRIGGER search_pending_update AFTER UPDATE OF reference, subject, client_name, client_email ON cases BEGIN
  INSERT INTO search_pending(case_id) VALUES (new.id) ON CONFLICT(case_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER search_pending_delete AFTER DELETE ON cases BEGIN
  INSERT INTO search_pending(case_id) VALUES (old.id) ON CONFLICT(case_id) DO UPDATE SET generation = generation + 1;
END;
-- Which database an index file belongs to: it is rebuilt when it names another.
CREATE TABLE search_index (
  id TEXT NOT NULL
) STRICT;
INSERT INTO search_index(id) VALUES (lower(hex(randomblob(16))));
)sql",
    // 12: the writer keeps the report summaries (summaries.h): it gathers each group commit's
    // deltas and applies them once before COMMIT, one upsert per summary row touched. The
    // triggers ran several statements for every case and commitment row written, about a
    // quarter of an action's cost. The summaries are rebuilt here so that they start exact.
    // The index of pledges by settlement time has been unread since the standards report came
    // from report_pledges (migration 8); every pledge still paid for it twice. The open cases'
    // index names its statuses as a chain of ORs: SQLite tested the IN list of five against a
    // temporary b-tree it built afresh, twice, on every change of a case's status.
    R"sql(
DROP INDEX commitments_pledges_settled;
DROP INDEX cases_open_level;
CREATE INDEX cases_open_level ON cases(escalation_level, received_at) WHERE status = 'received' OR
  status = 'acknowledged' OR status = 'investigating' OR status = 'awaiting_client' OR status = 'redress_proposed';
DROP TRIGGER report_settled_insert;
DROP TRIGGER report_settled_update;
DROP TRIGGER report_settled_delete;
DROP TRIGGER report_cases_insert;
DROP TRIGGER report_owner_cases_update;
DROP TRIGGER report_received_update;
DROP TRIGGER report_cases_delete;
DROP TRIGGER report_open_insert;
DROP TRIGGER report_open_update;
DROP TRIGGER report_open_delete;
DROP TRIGGER report_attention_insert;
DROP TRIGGER report_attention_update;
DROP TRIGGER report_attention_delete;
DROP TRIGGER report_pledges_insert;
DROP TRIGGER report_pledges_update;
DROP TRIGGER report_pledges_delete;
)sql",
    // 13: standards that keep their word (workflows/README.md). A case records the level at which
    // the client last asked for escalation (once per level), when its last holding reply went out,
    // and, for a complaint routed by a regulator's portal, the regulator's reference and when it was
    // routed. A pledge records the time its rule set (rule_due_at), so that one kept only on a
    // renegotiated date is not counted as met; a commitment records any exemption from automatic
    // compensation. Pledges renegotiated before this version get the due time of the pledge they
    // replaced; report_pledges is then rebuilt (apply_migration) with the attainment buckets
    // summaries.h defines.
    R"sql(
ALTER TABLE cases ADD COLUMN client_escalation_level INTEGER;
ALTER TABLE cases ADD COLUMN holding_reply_at INTEGER;
ALTER TABLE cases ADD COLUMN regulator_reference TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN routed_at INTEGER;
ALTER TABLE commitments ADD COLUMN rule_due_at INTEGER;
ALTER TABLE commitments ADD COLUMN exemption TEXT NOT NULL DEFAULT '';
WITH RECURSIVE chain(id, first_due) AS (
  SELECT id, due_at FROM commitments WHERE kind = 'pledge' AND replaces_id = 0
  UNION ALL
  SELECT k.id, chain.first_due FROM commitments k JOIN chain ON k.replaces_id = chain.id WHERE k.kind = 'pledge'
)
UPDATE commitments SET rule_due_at = (SELECT first_due FROM chain WHERE chain.id = commitments.id)
WHERE kind = 'pledge';
DELETE FROM report_pledges;
)sql",
    // 14: inbound email (adapters/inbound). Messages say how they arrived and whether they are held
    // for staff; inbound_mail records every distinct raw message once (its blob key) and what the
    // mail intake did with it; mailbox_positions where each polled IMAP mailbox was left
    // (ports/mailbox_state.h): its UIDVALIDITY and the last UID taken, so any process goes on from there.
    R"sql(
ALTER TABLE messages ADD COLUMN state TEXT NOT NULL DEFAULT 'posted';
ALTER TABLE messages ADD COLUMN via TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN original TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN mail_blob TEXT NOT NULL DEFAULT '';
CREATE TABLE inbound_mail (
  id              INTEGER PRIMARY KEY,
  blob_key        TEXT NOT NULL UNIQUE,
  message_id      TEXT NOT NULL,
  mailbox         TEXT NOT NULL,
  from_address    TEXT NOT NULL,
  subject         TEXT NOT NULL,
  received_at     INTEGER NOT NULL,
  disposition     TEXT NOT NULL DEFAULT 'pending',
  claimed_until   INTEGER,
  case_reference  TEXT NOT NULL DEFAULT '',
  detail          TEXT NOT NULL DEFAULT '',
  bounced_address TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX inbound_mail_from ON inbound_mail(from_address, received_at);
CREATE INDEX inbound_mail_case ON inbound_mail(case_reference) WHERE case_reference <> '';
CREATE TABLE mailbox_positions (
  mailbox TEXT PRIMARY KEY,
  uidvalidity INTEGER NOT NULL,
  last_uid INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql",
    // 15: files on messages. The bytes are in the blob file (blob_store.h); a row names them by key,
    // written in the message's transaction, so a message and its files are stored together or not at all.
    R"sql(
CREATE TABLE message_attachments (
  message_id   INTEGER NOT NULL REFERENCES messages(id),
  position     INTEGER NOT NULL,
  blob_key     TEXT NOT NULL,
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL,
  PRIMARY KEY (message_id, position)
) STRICT, WITHOUT ROWID;
)sql",
    // 16: what a regulatory return needs (issue 26): a resolution's root cause and product, the
    // client's vulnerability flag (staff only), what fulfilled redress paid, and partial indexes on
    // the events the returns and the survey results read.
    R"sql(
ALTER TABLE cases ADD COLUMN root_cause TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN product TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN vulnerability_driver TEXT;
ALTER TABLE cases ADD COLUMN vulnerability_note TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN vulnerability_review_on TEXT NOT NULL DEFAULT '';
ALTER TABLE redress ADD COLUMN paid_minor INTEGER;
ALTER TABLE redress ADD COLUMN paid_currency TEXT NOT NULL DEFAULT '';
-- The events the returns and the survey results read (report_queries.cpp), indexed alone: partial
-- indexes, so the other events (nearly all) cost no more to write. The queries repeat these terms.
CREATE INDEX events_returns ON events(case_id, seq) WHERE type IN ('case.resolved', 'case.withdrawn',
  'case.reopened', 'client.vulnerability_flagged', 'client.vulnerability_cleared', 'redress.fulfilled');
CREATE INDEX events_surveys ON events(at) WHERE type = 'survey.submitted';
)sql",
    // 17: a lease's attempt number, grown each time the lease changes hands, so that a holder that
    // stalled past its lease is refused its late writes (fencing: scheduler_records.h), as on
    // PostgreSQL. A lease is released by expiring it, so the count goes on.
    R"sql(
ALTER TABLE leases ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
)sql",
    // 18: the desk (issue 27): tags, links and the merge pointer on cases; case_tags, the tags by
    // case, which the case list filters on (the writer keeps it with each change of a case's tags);
    // an index of receipt times for the list's "received between"; and the case-list views staff
    // save in the console (ports/saved_views.h).
    R"sql(
ALTER TABLE cases ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN links TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN merged_into TEXT NOT NULL DEFAULT '';
CREATE TABLE case_tags (
  tag     TEXT NOT NULL,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  PRIMARY KEY (tag, case_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX case_tags_case ON case_tags(case_id);
CREATE INDEX cases_received_at ON cases(received_at);
-- The list by team and by owner, newest first: an index's entries end with the rowid, so (team)
-- and (owner_id) are read in id order and a page stops after its cases (cases_team_status and
-- cases_owner_status put the status between them, and the list then sorted every case of the
-- owner: 226 ms for an owner of 12,500 cases among 100,000, 6 ms so).
CREATE INDEX cases_team ON cases(team);
CREATE INDEX cases_owner ON cases(owner_id);
-- The overdue filter's test for a broken commitment of the case: only broken ones are indexed.
CREATE INDEX commitments_broken_case ON commitments(case_id) WHERE status = 'broken';
CREATE TABLE saved_views (
  id         INTEGER PRIMARY KEY,
  staff_id   TEXT NOT NULL REFERENCES staff(id),
  name       TEXT NOT NULL,
  team       TEXT NOT NULL DEFAULT '',
  filter     TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX saved_views_owner_name ON saved_views(staff_id, name);
CREATE INDEX saved_views_team ON saved_views(team) WHERE team <> '';
)sql",
    // 19: canned replies (issue 27): titled Mustache texts staff insert into a message, for one
    // workflow or all ('') and one team or all (''). AUTOINCREMENT: a deleted reply's id is never
    // given to another.
    R"sql(
CREATE TABLE canned_replies (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  title      TEXT NOT NULL,
  body       TEXT NOT NULL,
  workflow   TEXT NOT NULL DEFAULT '',
  team       TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
)sql",
    // 20: the return ledger (engine/return_ledger.h), and what the touchpoint pages read: two
    // indexes and the report_touchpoints summary. The writer adds each change's entries to return_days,
    // per local day, workflow, measure and key, in the change's transaction (summaries.h). Over cases
    // already stored it is not built yet: return_ledger says so, and the first start with the
    // workflows rebuilds it from the histories (ReportStore::rebuild_return_ledger).
    R"sql(
CREATE TABLE return_days (
  day      INTEGER NOT NULL,  -- days since 1970-01-01, the local date in the workflow's time zone
  workflow TEXT NOT NULL,
  measure  TEXT NOT NULL,
  key      TEXT NOT NULL,
  value    INTEGER NOT NULL,
  PRIMARY KEY (day, workflow, measure, key)
) STRICT, WITHOUT ROWID;
CREATE TABLE return_ledger (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  built INTEGER NOT NULL
) STRICT;
INSERT INTO return_ledger(id, built) VALUES (1, NOT EXISTS (SELECT 1 FROM cases));
-- Moments of truth (/staff/touchpoints/{touchpoint}): the cases that arose at a touchpoint lately,
-- with what their resolution recorded, so that the page's root causes read the index alone. A
-- resolution and a reopening change its entry; nothing else does.
CREATE INDEX cases_touchpoint ON cases(touchpoint, received_at, workflow, root_cause, outcome);
-- The broken commitments, latest due first (only those rows pay for it).
CREATE INDEX commitments_broken_due ON commitments(due_at) WHERE status = 'broken';
-- Per touchpoint and UTC day: commitments broken (by the day they fell due) and the survey's answers.
-- Kept by the writer like the other summaries (summaries.h); filled from the rows after this SQL.
CREATE TABLE report_touchpoints (
  day        INTEGER NOT NULL,
  touchpoint TEXT NOT NULL,
  measure    TEXT NOT NULL,
  key        TEXT NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (day, touchpoint, measure, key)
) STRICT, WITHOUT ROWID;
)sql",
    // 21: personal data (docs/personal-data.md): events sealed by hash rule 2, legal holds and
    // restriction per case, the erasures, the blobs they still have to delete, the retention runs.
    R"sql(
-- Hash rule 2 (engine/sealing.h): an event's personal fields as hiding commitments, their salts
-- here until the field is erased or redacted. NULL: the event was sealed by rule 1 (whole data).
ALTER TABLE events ADD COLUMN seals TEXT;
-- What personal data law asks of a case: a legal hold (a manager's reason; '' when none) and
-- whether an erasure request left it restricted (kept, hidden, for admins only) or erased it.
CREATE TABLE case_privacy (
  case_id       INTEGER PRIMARY KEY REFERENCES cases(id),
  legal_hold    TEXT NOT NULL DEFAULT '',
  hold_by       TEXT NOT NULL DEFAULT '',
  hold_at       INTEGER,
  state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','restricted','erased')),
  restricted_at INTEGER,
  erased_at     INTEGER,
  erasure_id    INTEGER
) STRICT;
CREATE INDEX case_privacy_state ON case_privacy(state) WHERE state <> 'open';
-- Each erasure: a request about one client (their email only as a salted hash) or a retention run.
CREATE TABLE erasures (
  id               INTEGER PRIMARY KEY,
  email_salt       TEXT NOT NULL,   -- hex; email_hash = SHA-256(salt || lower-case email)
  email_hash       TEXT NOT NULL,   -- '' for a retention run
  reason           TEXT NOT NULL,
  actor            TEXT NOT NULL,
  source           TEXT NOT NULL CHECK (source IN ('request','retention')),
  requested_at     INTEGER NOT NULL,
  finished_at      INTEGER,
  cases_erased     INTEGER NOT NULL DEFAULT 0,
  cases_restricted INTEGER NOT NULL DEFAULT 0
) STRICT;
-- Files and raw mail of erased cases still to delete from the blobs (written with the case's erasure).
CREATE TABLE erasure_blobs (
  blob_key TEXT PRIMARY KEY
) STRICT;
-- The daily retention run: one row per day, taken by whichever process runs it.
CREATE TABLE retention_runs (
  day         TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  report      TEXT NOT NULL DEFAULT ''
) STRICT;
)sql",
    // 22: the survey's answers added up per day and group, for the review board's RATER tables and
    // the owners' report (summaries.h): reading a year of answers from the events took 0.5 s at
    // 100,000 cases. Kept by the writer; filled from the rows after this SQL.
    R"sql(
CREATE TABLE report_survey (
  day            INTEGER NOT NULL,  -- UTC days since 1970-01-01
  dimension      TEXT NOT NULL CHECK (dimension IN ('workflow','touchpoint','owner','team')),
  value          TEXT NOT NULL,
  responses      INTEGER NOT NULL,
  overall        INTEGER NOT NULL,
  rated          INTEGER NOT NULL,
  reliability    INTEGER NOT NULL,
  assurance      INTEGER NOT NULL,
  tangibles      INTEGER NOT NULL,
  empathy        INTEGER NOT NULL,
  responsiveness INTEGER NOT NULL,
  PRIMARY KEY (day, dimension, value)
) STRICT, WITHOUT ROWID;
)sql",
};

// The summaries each migration creates, filled from the rows after its SQL, in its transaction, by
// their one definition (summaries.h): the aggregates are written once, not again in the
// migrations.
struct FilledSummaries {
  int version;
  std::array<Summary, 3> summaries;
};
constexpr FilledSummaries kFilledSummaries[] = {
    {6, {Summary::kSettled, Summary::kOwnerCases, Summary::kReceived}},
    {8, {Summary::kOpen, Summary::kAttention, Summary::kPledges}},
};

// From this version on the writer keeps the report summaries; migrating to it rebuilds them.
constexpr int kSummariesKeptByWriter = 12;
// From this version on report_pledges counts pledges by attainment (summaries.h); migrating to it
// fills the table again.
constexpr int kPledgeAttainment = 13;

// Runs migration `version`'s SQL, then fills the summaries it creates.
Status apply_migration(Connection& connection, int version) {
  Status applied = connection.exec(kMigrations[static_cast<std::size_t>(version - 1)]);
  for (const auto& filled : kFilledSummaries)
    if (filled.version == version)
      for (Summary summary : filled.summaries)
        if (applied) applied = fill_summary(connection, summary);
  if (applied && version == kSummariesKeptByWriter) applied = rebuild_summaries(connection);
  if (applied && version == kPledgeAttainment) applied = fill_summary(connection, Summary::kPledges);
  if (applied && version == kTouchpointsSummaryMigration) applied = fill_summary(connection, Summary::kTouchpoints);
  if (applied && version == kSurveySummaryMigration) applied = fill_summary(connection, Summary::kSurvey);
  return applied;
}

}  // namespace

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

Result<int> schema_version(Connection& connection) {
  auto statement = connection.prepare("PRAGMA user_version");
  if (!statement) return statement.error();
  if (!statement->step())
    return statement->status().ok() ? Error::internal("no user_version") : statement->status().error();
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
    Status applied = apply_migration(connection, next);
    if (applied) applied = connection.exec("PRAGMA user_version = " + std::to_string(next));
    if (!applied) {
      (void)connection.exec("ROLLBACK");
      return Error::internal("migration to schema version " + std::to_string(next) +
                             " failed: " + applied.error().detail);
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
      // Deleted rows (a signed-out session, a delivered notification's address) are overwritten,
      // not left readable in free pages. Debian's build defaults to it; others may not.
      "PRAGMA secure_delete = ON;"
      // No memory map: pages are read into each connection's bounded cache (the kernel's page
      // cache keeps the file warm). A map would add up to its size of file pages to the
      // process's resident memory per connection, growing with the database.
      "PRAGMA mmap_size = 0;";
  // The writer's cache holds the pages of what it writes; a reader's, the hot part of its reads.
  // The process's page caches are bounded by 64 MiB + readers x 32 MiB.
  pragmas += mode == OpenMode::kReadWrite ? "PRAGMA cache_size = -65536;" : "PRAGMA cache_size = -32768;";
  if (mode == OpenMode::kReadWrite) {
    pragmas +=
        "PRAGMA journal_mode = WAL;"
        "PRAGMA wal_autocheckpoint = 0;"          // the store checkpoints itself, off the commit path
        "PRAGMA journal_size_limit = 67108864;";  // a truncated WAL is kept at most 64 MiB
    pragmas += durability == Durability::kFull ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
  } else {
    pragmas += "PRAGMA query_only = ON;";
  }
  return connection.exec(pragmas);
}

}  // namespace redress::sqlite
