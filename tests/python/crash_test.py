#!/usr/bin/python3
"""The crash test (issue 7): `redress serve` under load is killed with SIGKILL and restarted.

Several client processes create cases (each with its own Idempotency-Key, retried with the same
key after a failure) and act on them: acknowledge, take, start, make promises that fall due a few
seconds later, keep them, post messages, escalate. Every 2xx answer is appended to the client's
log and fsynced before the client goes on, and so is the case's history as the client then read
it. Mail goes to an SMTP capture server on loopback (tests/python/smtp_capture.py).

The harness kills the server at random moments (--kills times), keeps it down for a random while
(promises fall due meanwhile), restarts it and checks, with the clients still running:
  - every acknowledged write is there: each acknowledged case exists under its Idempotency-Key,
    its version is not behind any version a client was answered, and every event a client read
    is stored with the same hash;
  - no partial action: each case's version is its last event's number with no gap, every
    commitment and message row has the event that made it and every such event its row, every
    notification belongs to a stored event; no client email has two cases (no double creation);
  - no commitment is broken twice, and a broken one has exactly one `commitment.broken` event;
  - `redress audit verify` exits 0 and `PRAGMA integrity_check` says ok.
After the last kill the clients stop and the server is restarted once more on a manual clock,
moved an hour on (past the 60 s scheduler lease and the 5 min outbox claims of the killed
processes). Then every promise that fell due, while the server ran or while it was down, must be
broken exactly once, and every email notification delivered: each Message-ID the outbox owes was
received, none unknown was received, and a Message-ID received twice is allowed only when a kill
fell between its first arrival and the moment the outbox recorded a delivery (SMTP is at least
once; the resent mail is byte for byte the same, so receivers de-duplicate it).

Usage: crash_test.py --redress build/redress [--kills 20] [--seed S] [--clients 4] [--keep DIR]
Exit status 0 when every check passed, 1 when one failed (named on stderr), 2 on a setup error.
Needs /usr/bin/python3 with python3-aiosmtpd (scripts/install-deps --test).
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- the clients ----------------------------------------------------------------------------------

class Client:
    """One load process: owns the cases it creates; logs every 2xx answer, fsynced."""

    def __init__(self, args):
        self.host, self.port = args.url.split(":")
        self.token = args.token
        self.id = args.id
        self.rng = random.Random(args.seed)
        self.log = open(args.log, "a")
        self.stop = args.stop
        self.conn = None
        self.cases = []  # [{"ref", "version"}] still worked on
        self.created = 0
        self.pending_key = None  # a creation not yet acknowledged: retried with the same key

    def record(self, entry):
        self.log.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self.log.flush()
        os.fsync(self.log.fileno())

    def request(self, method, path, body=None, headers=None):
        """(status, headers, parsed body) or None when the server is unreachable or died mid-way."""
        h = {"Authorization": "Bearer " + self.token, "Accept": "application/json"}
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, int(self.port), timeout=15)
            self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=h)
            response = self.conn.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, dict(response.getheaders()), parsed
        except (OSError, http.client.HTTPException):
            self.close()
            return None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def check_status(self, what, answer):
        status, _, body = answer
        if status >= 500:
            self.record({"t": "error", "what": what, "status": status, "body": body})

    def read_history(self, ref):
        answer = self.request("GET", "/v1/cases/%s/events" % ref)
        if answer and answer[0] == 200:
            events = [[e["seq"], e["type"], e["hash"]] for e in answer[2]["items"]]
            self.record({"t": "events", "ref": ref, "events": events})

    def create(self):
        if self.pending_key is None:
            self.created += 1
            self.pending_key = "crash-c%d-%d" % (self.id, self.created)
        key = self.pending_key
        body = {
            "client": {"name": "Client %s" % key, "email": "%s@example.org" % key},
            "channel": "web", "category": "billing", "severity": "medium",
            "subject": "Crash test complaint %s" % key,
            "description": "Charged twice; written by client %d." % self.id,
        }
        answer = self.request("POST", "/v1/cases", body, {"Idempotency-Key": key})
        if answer is None:
            return
        self.check_status("create", answer)
        status, headers, data = answer
        if 200 <= status < 300:
            self.record({"t": "create", "key": key, "email": body["client"]["email"], "ref": data["reference"],
                         "version": data["version"], "etag": headers.get("ETag")})
            self.pending_key = None
            self.cases.append({"ref": data["reference"], "version": data["version"]})
            self.read_history(data["reference"])
        elif status != 503:
            self.pending_key = None  # refused for good: a new key next time

    def act(self):
        case = self.rng.choice(self.cases)
        ref = case["ref"]
        answer = self.request("GET", "/v1/cases/" + ref)
        if answer is None:
            return
        status, _, view = answer
        if status != 200:
            self.check_status("read", answer)
            return
        version = view["version"]
        if version > 60 or view["status"] not in ("received", "acknowledged", "investigating"):
            self.cases.remove(case)
            return
        allowed = view["allowed_actions"]
        match = {"If-Match": '"%d"' % version}
        op, path, body = None, None, None
        for step in ("acknowledge", "take", "start"):
            if step in allowed:
                op, path, body = step, "/v1/cases/%s/actions" % ref, {"action": step}
                break
        if op is None:
            open_promises = [k for k in view["commitments"] if k["kind"] == "promise" and k["status"] == "open"]
            pick = self.rng.random()
            if pick < 0.4:
                seconds = self.rng.randint(1, 6)
                op, path = "promise", "/v1/cases/%s/commitments" % ref
                body = {"text": "We will call you back (%d s)" % seconds, "due_in": "PT%dS" % seconds,
                        "client_visible": self.rng.random() < 0.5}
            elif pick < 0.55 and open_promises:
                op, path, body, match = "keep", "/v1/commitments/%s/keep" % open_promises[0]["id"], {"note": "done"}, {}
            elif pick < 0.9:
                op, path = "message", "/v1/cases/%s/messages" % ref
                body = {"visibility": self.rng.choice(["client", "internal"]), "body": "Update %d" % version}
            elif "escalate" in allowed:
                op, path, body = "escalate", "/v1/cases/%s/actions" % ref, {"action": "escalate", "reason": "slow"}
            else:
                return
        answer = self.request("POST", path, body, match)
        if answer is None:
            return  # the outcome is unknown: nothing is recorded
        self.check_status(op, answer)
        status, headers, data = answer
        if 200 <= status < 300:
            etag = headers.get("ETag")
            after = int(etag.strip('"')) if etag else None
            self.record({"t": "act", "ref": ref, "op": op, "before": version, "version": after, "etag": etag})
            self.read_history(ref)

    def run(self):
        while not os.path.exists(self.stop):
            if self.pending_key is not None or len(self.cases) < 3 or self.rng.random() < 0.2:
                before = self.pending_key
                self.create()
                if before is not None and self.pending_key == before:
                    time.sleep(0.05)  # the server is down: try again shortly
            else:
                self.act()
            if self.conn is None:
                time.sleep(0.05)
        self.close()


# ---- the harness ----------------------------------------------------------------------------------

class Failure(Exception):
    pass


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


class Harness:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.redress = os.path.abspath(args.redress)
        self.root = args.keep or tempfile.mkdtemp(prefix="redress-crash-")
        os.makedirs(self.root, exist_ok=True)
        self.data = os.path.join(self.root, "data")
        self.db = os.path.join(self.data, "redress.db")
        self.mail = os.path.join(self.root, "mail")
        self.stop_file = os.path.join(self.root, "stop")
        self.server = None
        self.serve_count = 0
        self.kills = []        # (kill time, restart time)
        self.clients = []
        self.smtp = None
        self.checks = 0
        self.started = time.time()

    def log(self, message):
        print("[%6.1fs] %s" % (time.time() - self.started, message), flush=True)

    def tool(self, *argv):
        result = run([self.redress] + list(argv) + ["--data-dir", self.data])
        if result.returncode != 0:
            raise Failure("redress %s failed (%d): %s" % (" ".join(argv), result.returncode, result.stdout))
        return result.stdout

    def setup(self):
        self.tool("migrate")
        self.tool("staff", "add", "--name", "Crash Admin", "--email", "admin@crash.test", "--role", "admin")
        self.tool("staff", "add", "--name", "Crash Agent", "--email", "agent@crash.test", "--role", "agent")
        self.admin_token = self.tool("staff", "token", "--email", "admin@crash.test").split()[0]
        self.agent_token = self.tool("staff", "token", "--email", "agent@crash.test").split()[0]
        port_file = os.path.join(self.root, "smtp.port")
        self.smtp = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "smtp_capture.py"), "--dir", self.mail, "--port-file", port_file,
             "--lifetime", "86400"], stdout=open(os.path.join(self.root, "smtp.log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not os.path.exists(port_file):
            if self.smtp.poll() is not None or time.time() > deadline:
                raise Failure("the SMTP capture server did not start: " + open(os.path.join(self.root, "smtp.log")).read())
            time.sleep(0.05)
        self.smtp_port = int(open(port_file).read())
        self.port = self.free_port()

    @staticmethod
    def free_port():
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def start_server(self, manual_clock=False):
        self.serve_count += 1
        argv = [self.redress, "serve", "--data-dir", self.data, "--listen", "127.0.0.1:%d" % self.port,
                "--threads", "2", "--smtp", "smtp://127.0.0.1:%d" % self.smtp_port, "--smtp-starttls", "off"]
        if manual_clock:
            argv += ["--clock", "manual"]
        out = open(os.path.join(self.root, "serve-%02d.log" % self.serve_count), "w")
        self.server = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.server.poll() is not None:
                raise Failure("redress serve exited with %d at start %d: %s" % (
                    self.server.returncode, self.serve_count, open(out.name).read()[-2000:]))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return
                c.close()
            except OSError:
                pass
            time.sleep(0.05)
        raise Failure("redress serve did not answer /healthz within 60 s")

    def kill_server(self):
        self.server.send_signal(signal.SIGKILL)
        self.server.wait()
        return time.time()

    def start_clients(self):
        os.makedirs(os.path.join(self.root, "clients"), exist_ok=True)
        for i in range(self.args.clients):
            log = os.path.join(self.root, "clients", "%d.jsonl" % i)
            self.clients.append(subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "client", "--url", "127.0.0.1:%d" % self.port,
                 "--token", self.agent_token, "--log", log, "--id", str(i), "--seed", str(self.rng.randrange(1 << 30)),
                 "--stop", self.stop_file]))

    def stop_clients(self):
        open(self.stop_file, "w").close()
        for c in self.clients:
            try:
                c.wait(timeout=60)
            except subprocess.TimeoutExpired:
                c.kill()
                raise Failure("a client did not stop within 60 s")
            if c.returncode != 0:
                raise Failure("client exited with %d" % c.returncode)

    def client_records(self):
        records = []
        for name in sorted(os.listdir(os.path.join(self.root, "clients"))):
            with open(os.path.join(self.root, "clients", name)) as f:
                data = f.read()
            for line in data.split("\n")[:-1]:  # a last line without its newline is still being written
                records.append(json.loads(line))
        return records

    def api(self, method, path, body=None, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Authorization": "Bearer " + (token or self.admin_token)}
        if body is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None

    # ---- the checks ----

    def check(self, final=False, now_us=None):
        records = self.client_records()  # read before the database: all of these must be in it
        self.checks += 1
        errors = [r for r in records if r["t"] == "error"]
        if errors:
            raise Failure("the server answered 5xx: %s" % json.dumps(errors[:3]))
        audit = run([self.redress, "audit", "verify", "--data-dir", self.data])
        if audit.returncode != 0:
            raise Failure("redress audit verify exited %d: %s" % (audit.returncode, audit.stdout))
        db = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
        try:
            db.execute("BEGIN")
            stats = self.check_database(db, records, final, now_us)
            db.execute("COMMIT")
        finally:
            db.close()
        return stats

    def check_database(self, db, records, final, now_us):
        q = lambda sql, *p: db.execute(sql, p).fetchall()
        integrity = q("PRAGMA integrity_check")
        if integrity != [("ok",)]:
            raise Failure("integrity_check: %s" % integrity[:5])
        cases = {ref: (cid, version, email) for cid, ref, version, email in
                 q("SELECT id, reference, version, client_email FROM cases")}
        by_id = {cid: ref for ref, (cid, _, _) in cases.items()}
        events = {}
        for cid, seq, etype, data, h in q("SELECT case_id, seq, type, data, hash FROM events ORDER BY case_id, seq"):
            events.setdefault(by_id[cid], []).append((seq, etype, json.loads(data), h))
        # No partial action: the case row and its events agree, without gaps.
        for ref, (cid, version, _) in cases.items():
            seqs = [e[0] for e in events.get(ref, [])]
            if seqs != list(range(1, version + 1)):
                raise Failure("%s is at version %d but has events %s" % (ref, version, seqs[-5:]))
        emails = {}
        for ref, (_, _, email) in cases.items():
            if email in emails:
                raise Failure("two cases for %s: %s and %s (a creation ran twice)" % (email, emails[email], ref))
            emails[email] = ref
        # Keys are stored scoped to who sent them: "api:<staff id>:<Idempotency-Key>".
        keys = {k.rsplit(":", 1)[-1]: ref for k, ref in
                q("SELECT k.key, c.reference FROM idempotency_keys k JOIN cases c ON c.id = k.case_id")}
        # Every acknowledged write is there.
        acked = 0
        for r in records:
            if r["t"] == "create":
                acked += 1
                if keys.get(r["key"]) != r["ref"]:
                    raise Failure("acknowledged creation %s (%s) is missing: the key maps to %s" % (
                        r["key"], r["ref"], keys.get(r["key"])))
                if cases[r["ref"]][1] < r["version"]:
                    raise Failure("%s is at version %d, behind the acknowledged %d" % (r["ref"], cases[r["ref"]][1], r["version"]))
            elif r["t"] == "act":
                acked += 1
                if r["ref"] not in cases or r["version"] is None or cases[r["ref"]][1] < r["version"]:
                    raise Failure("acknowledged %s on %s (version %s) is missing: stored version %s" % (
                        r["op"], r["ref"], r["version"], cases.get(r["ref"], (0, None))[1]))
            elif r["t"] == "events":
                stored = {e[0]: (e[1], e[3]) for e in events.get(r["ref"], [])}
                for seq, etype, h in r["events"]:
                    if stored.get(seq) != (etype, h):
                        raise Failure("%s event %d (%s) as read by a client is %s in the database" % (
                            r["ref"], seq, etype, stored.get(seq)))
        # Commitments and messages have their events, and the events their rows.
        made, broken = {}, {}
        messages = set()
        for ref, evs in events.items():
            for seq, etype, data, _ in evs:
                if etype == "commitment.made":
                    made[data["commitment_id"]] = ref
                elif etype == "commitment.broken":
                    broken.setdefault(data["commitment_id"], []).append((ref, seq))
                elif etype.startswith("message.") and "message_id" in data:
                    messages.add(data["message_id"])
        rows = {"k-%d" % kid: (by_id[cid], status, kind, due) for kid, cid, status, kind, due in
                q("SELECT id, case_id, status, kind, due_at FROM commitments")}
        if set(rows) != set(made):
            raise Failure("commitment rows without their event: %s; events without their row: %s" % (
                sorted(set(rows) - set(made))[:5], sorted(set(made) - set(rows))[:5]))
        message_rows = {"m-%d" % mid for (mid,) in q("SELECT id FROM messages")}
        if message_rows != messages:
            raise Failure("message rows and message events differ: %s" % sorted(message_rows ^ messages)[:5])
        orphans = q("SELECT n.id FROM notifications n LEFT JOIN events e ON e.case_id = n.case_id AND e.seq = n.event_seq "
                    "WHERE e.id IS NULL LIMIT 5")
        if orphans:
            raise Failure("notifications without their event: %s" % orphans)
        # Broken once, and only what is broken.
        for kid, (ref, status, kind, due) in rows.items():
            n = len(broken.get(kid, []))
            if n > 1:
                raise Failure("commitment %s of %s was broken %d times: %s" % (kid, ref, n, broken[kid]))
            if (status == "broken") != (n == 1):
                raise Failure("commitment %s of %s is %s with %d commitment.broken events" % (kid, ref, status, n))
        stats = {"cases": len(cases), "events": sum(len(v) for v in events.values()), "acknowledged": acked,
                 "promises": sum(1 for v in rows.values() if v[2] == "promise"),
                 "broken": sum(1 for v in rows.values() if v[1] == "broken")}
        if final:
            overdue = [(kid, v) for kid, v in rows.items() if v[1] == "open" and v[3] <= now_us]
            if overdue:
                raise Failure("commitments past due and still open after the scheduler ran: %s" % overdue[:5])
            stats["fell_due_while_down"] = sum(
                1 for v in rows.values() if v[2] == "promise" and v[1] == "broken" and
                any(k * 1e6 <= v[3] < r * 1e6 for k, r in self.kills))
            stats.update(self.check_mail(q))
        return stats

    def check_mail(self, q):
        owed = {nid: (status, delivered) for nid, status, delivered in
                q("SELECT id, status, delivered_at FROM notifications WHERE channel = 'email'")}
        not_delivered = [nid for nid, (status, _) in owed.items() if status != "delivered"]
        if not_delivered:
            raise Failure("notifications not delivered: %s" % not_delivered[:10])
        attempts = {}
        for nid, at, outcome in q("SELECT notification_id, at, outcome FROM notification_attempts"):
            attempts.setdefault(nid, []).append((at, outcome))
        received = {}
        pattern = re.compile(rb"^Message-ID: <n-(\d+)\.", re.M | re.I)
        for name in sorted(os.listdir(self.mail)):
            if not name.endswith(".eml"):
                continue
            path = os.path.join(self.mail, name)
            with open(path, "rb") as f:
                m = pattern.search(f.read())
            if not m:
                continue  # not an outbox mail (none are expected)
            received.setdefault(int(m.group(1)), []).append((os.stat(path).st_mtime, path))
        missing = sorted(set(owed) - set(received))
        if missing:
            raise Failure("owed mail never received: %s" % ["n-%d" % n for n in missing[:10]])
        unknown = sorted(set(received) - set(owed))
        if unknown:
            raise Failure("mail received that no notification owes: %s" % unknown[:10])
        repeats, identical = 0, 0
        kill_times = [k for k, _ in self.kills] + [self.final_kill]
        for nid, copies in received.items():
            if len(copies) == 1:
                continue
            # Each copy but the last must be followed by a kill before the next copy: the killed
            # process had sent it and not yet recorded the delivery.
            copies.sort()
            arrivals = [t for t, _ in copies]
            contents = {open(p, "rb").read() for _, p in copies}
            # The payload is stored before the first send: a copy is the same mail, byte for byte.
            if len(contents) != 1:
                raise Failure("n-%d was received %d times, not all the same bytes" % (nid, len(copies)))
            identical += 1
            for first, then in zip(arrivals, arrivals[1:]):
                if not any(first - 0.01 <= k <= then + 0.01 for k in kill_times):
                    raise Failure("n-%d was received twice with no kill between (%.3f, %.3f)" % (nid, first, then))
            delivered = [a for a in attempts.get(nid, []) if a[1] == "delivered"]
            if len(delivered) != 1:
                raise Failure("n-%d: %d copies received, %d delivered attempts recorded" % (nid, len(arrivals), len(delivered)))
            repeats += len(arrivals) - 1
        return {"mails_owed": len(owed), "mails_received": sum(len(a) for a in received.values()),
                "mail_repeats_after_a_kill": repeats,
                "repeated_ids_byte_identical": identical,
                "repeated_ids": sum(1 for c in received.values() if len(c) > 1)}

    def wait_fired(self, killed, restarted, limit=20.0):
        """Waits until the restarted scheduler has fired every commitment due before the restart;
        returns how many fell due while the server was down."""
        deadline = time.time() + limit
        while True:
            db = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
            late = db.execute("SELECT id, due_at FROM commitments WHERE status = 'open' AND due_at <= ?",
                              (int(restarted * 1e6),)).fetchall()
            (down,) = db.execute("SELECT count(*) FROM commitments WHERE due_at >= ? AND due_at < ?",
                                 (int(killed * 1e6), int(restarted * 1e6))).fetchone()
            db.close()
            if not late:
                return down
            if time.time() > deadline:
                raise Failure("%.0f s after the restart, %d commitments due before it are still open: %s" % (
                    limit, len(late), late[:5]))
            time.sleep(0.1)

    # ---- the run ----

    def main(self):
        args = self.args
        self.setup()
        self.start_server()
        self.start_clients()
        self.log("serving on 127.0.0.1:%d with %d clients; %d kills, seed %s; files in %s" % (
            self.port, args.clients, args.kills, args.seed, self.root))
        for k in range(1, args.kills + 1):
            time.sleep(self.rng.uniform(args.min_up, args.max_up))
            killed = self.kill_server()
            time.sleep(self.rng.uniform(0.0, args.max_down))
            self.start_server()
            restarted = time.time()
            self.kills.append((killed, restarted))
            fired = self.wait_fired(killed, restarted)
            stats = self.check()
            stats["due_while_down"] = fired
            self.log("kill %d/%d: down %.2f s; %s" % (k, args.kills, self.kills[-1][1] - killed,
                                                         ", ".join("%s %d" % kv for kv in stats.items())))
        # The end: quiet clients, one last restart on a manual clock an hour on.
        self.stop_clients()
        self.final_kill = self.kill_server()
        self.start_server(manual_clock=True)
        status, moved = self.api("POST", "/v1/admin/clock", {"advance": "PT1H"})
        if status != 200:
            raise Failure("POST /v1/admin/clock answered %d: %s" % (status, moved))
        deadline = time.time() + 120
        while True:
            db = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
            (pending,) = db.execute("SELECT count(*) FROM notifications WHERE status = 'pending'").fetchone()
            db.close()
            if pending == 0:
                break
            if time.time() > deadline:
                raise Failure("%d notifications still pending 120 s after the last restart" % pending)
            time.sleep(0.2)
        status, health = self.api("GET", "/healthz")
        now_us = int(self.parse_time(health["time"]) * 1e6)
        stats = self.check(final=True, now_us=now_us)
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=60)
        if self.server.returncode != 0:
            raise Failure("redress serve exited with %d on SIGTERM" % self.server.returncode)
        self.log("final: %s" % ", ".join("%s %d" % kv for kv in stats.items()))
        self.log("PASS: %d kills, %d checks, %.0f s" % (len(self.kills), self.checks, time.time() - self.started))
        return 0

    @staticmethod
    def parse_time(text):
        import datetime
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    def cleanup(self):
        if self.server and self.server.poll() is None:
            self.server.kill()
            self.server.wait()
        if not os.path.exists(self.stop_file):
            open(self.stop_file, "w").close()
        for c in self.clients:
            try:
                c.wait(timeout=30)
            except subprocess.TimeoutExpired:
                c.kill()
        if self.smtp and self.smtp.poll() is None:
            self.smtp.terminate()
            self.smtp.wait()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        p = argparse.ArgumentParser()
        p.add_argument("mode")
        p.add_argument("--url", required=True)
        p.add_argument("--token", required=True)
        p.add_argument("--log", required=True)
        p.add_argument("--id", type=int, required=True)
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--stop", required=True)
        Client(p.parse_args()).run()
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--redress", default=os.path.join(HERE, "..", "..", "build", "redress"))
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--min-up", type=float, default=0.5, help="least seconds between a restart and the next kill")
    p.add_argument("--max-up", type=float, default=3.0)
    p.add_argument("--max-down", type=float, default=1.5, help="most seconds the server stays down")
    p.add_argument("--keep", help="work in this folder and keep it (default: a temporary one, removed on success)")
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    harness = Harness(args)
    try:
        code = harness.main()
    except Failure as e:
        print("FAIL (seed %d, files kept in %s): %s" % (args.seed, harness.root, e), file=sys.stderr, flush=True)
        code = 1
    finally:
        harness.cleanup()
    if code == 0 and not args.keep:
        subprocess.run(["rm", "-rf", harness.root])
    return code


if __name__ == "__main__":
    sys.exit(main())
