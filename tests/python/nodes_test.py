#!/usr/bin/python3
"""Several nodes on one PostgreSQL (issue 23): the crash test (crash_test.py) with three
`redress serve` nodes sharing one database, one of them SIGKILLed and restarted again and again.

A private PostgreSQL 15 is started in a temporary folder (initdb and pg_ctl, as the `postgres`
user when run as root). The clients of crash_test.py (creations with Idempotency-Keys, actions,
promises falling due seconds later, messages), each talking to one node, so the load is spread over
all three; every 2xx answer is logged and fsynced by the client. The harness kills a random node,
keeps it down a while, restarts it and then runs crash_test.py's checks on the shared database, read
in one snapshot: every acknowledged creation and action is there, no partial action, no creation
twice, every commitment broken at most once and exactly when it is broken, `redress audit verify
--database` exits 0. While a node is down the others hold the scheduler and outbox leases once
theirs run out, so promises keep falling due. At the end the clients stop, every node is stopped,
and one node on a manual clock an hour on fires what is left; then every promise past due is broken
exactly once and every owed mail was received by the SMTP capture server, a repeat only across a
kill and byte for byte the same (crash_test.py's check_mail).

With --postgres-restarts N, N of the kills (every other one) crash PostgreSQL itself (pg_ctl stop
-m immediate: recovery from the WAL at start) and start it again a moment later: the nodes answer
503 meanwhile, reconnect by themselves, and the same checks then hold.

Usage: nodes_test.py --redress build/redress [--kills 6] [--postgres-restarts N] [--seed S]
                     [--clients 6] [--keep DIR]
Exit status 0 when every check passed, 1 when one failed, 2 on a setup error.
"""
import argparse
import os
import pwd
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import crash_test  # noqa: E402  (the clients and the checks are the single-node test's)

PG_BIN = "/usr/lib/postgresql/15/bin"
NODES = 3


class Postgres:
    """A private PostgreSQL 15 in `root`, on a free loopback port; `psql` runs statements on it."""

    def __init__(self, root):
        self.root = root
        self.data = os.path.join(root, "pg")
        self.as_postgres = os.geteuid() == 0
        os.makedirs(self.data, exist_ok=True)
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            for path in (root, self.data):
                os.chown(path, user.pw_uid, user.pw_gid)
        self.port = crash_test.Harness.free_port()
        self.command("initdb", "-D", self.data, "-U", "redress", "--auth=trust", "--encoding=UTF8", "--no-locale",
                     "--no-sync")
        self.options = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off "
                        "-c max_connections=200 -c shared_buffers=32MB" % (self.port, self.data))
        self.start()
        self.command("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "redress", "redress")
        self.url = "postgresql://redress@127.0.0.1:%d/redress" % self.port

    def start(self):
        self.command("pg_ctl", "-D", self.data, "-l", os.path.join(self.data, "server.log"), "-w", "-t", "60", "-o",
                     self.options, "start")

    def crash(self):
        """Stops the server as a crash would (immediate: no checkpoint, recovery from the WAL at start)."""
        self.command("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def command(self, binary, *argv):
        cmd = [os.path.join(PG_BIN, binary)] + list(argv)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd="/tmp")
        if result.returncode != 0:
            raise crash_test.Failure("%s failed: %s" % (binary, result.stdout))
        return result.stdout

    def stop(self):
        subprocess.run(([ "runuser", "-u", "postgres", "--"] if self.as_postgres else []) +
                       [os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")


class Snapshot:
    """What crash_test.py's checks read, as sqlite3 would give it, from one PostgreSQL snapshot:
    each table the checks query is read once, in one REPEATABLE READ transaction, then the checks'
    statements are answered from those rows."""

    QUERIES = {
        "SELECT id, reference, version, client_email FROM cases":
            "SELECT id, reference, version, client_email FROM cases",
        "SELECT case_id, seq, type, data, hash FROM events ORDER BY case_id, seq":
            "SELECT case_id, seq, type, data, hash FROM events ORDER BY case_id, seq",
        "SELECT k.key, c.reference FROM idempotency_keys k JOIN cases c ON c.id = k.case_id":
            "SELECT k.key, c.reference FROM idempotency_keys k JOIN cases c ON c.id = k.case_id",
        "SELECT id, case_id, status, kind, due_at FROM commitments":
            "SELECT id, case_id, status, kind, due_at FROM commitments",
        "SELECT id FROM messages": "SELECT id FROM messages",
        "SELECT n.id FROM notifications n LEFT JOIN events e ON e.case_id = n.case_id AND e.seq = n.event_seq "
        "WHERE e.id IS NULL LIMIT 5":
            "SELECT n.id FROM notifications n LEFT JOIN events e ON e.case_id = n.case_id AND e.seq = n.event_seq "
            "WHERE e.id IS NULL LIMIT 5",
        "SELECT id, status, delivered_at FROM notifications WHERE channel = 'email'":
            "SELECT id, status, delivered_at FROM notifications WHERE channel = 'email'",
        "SELECT notification_id, at, outcome FROM notification_attempts":
            "SELECT notification_id, at, outcome FROM notification_attempts",
    }
    INTEGER = {"id", "case_id", "version", "seq", "due_at", "delivered_at", "notification_id", "at"}

    def __init__(self, pg):
        script = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
        for i, sql in enumerate(self.QUERIES.values()):
            script += "\\echo @@%d\n%s;\n" % (i, sql)
        script += "COMMIT;\n"
        psql = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", pg.url]
        result = subprocess.run(psql, input=script, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise crash_test.Failure("psql: " + result.stderr)
        sections, current = {}, None
        for line in result.stdout.split("\n"):
            if line.startswith("@@"):
                current = int(line[2:])
                sections[current] = []
            elif current is not None and line != "":
                sections[current].append(line.split("\x1f"))
        self.rows = {}
        for i, (key, sql) in enumerate(self.QUERIES.items()):
            columns = [c.strip().split(".")[-1].split(" ")[-1] for c in sql.split("FROM")[0][7:].split(",")]
            rows = []
            for raw in sections.get(i, []):
                row = []
                for name, value in zip(columns, raw):
                    if value == "" and name in self.INTEGER:
                        row.append(None)
                    elif name in self.INTEGER:
                        row.append(int(value))
                    else:
                        row.append(value)
                rows.append(tuple(row))
            self.rows[key] = rows

    def execute(self, sql, params=()):
        if sql == "PRAGMA integrity_check":
            return Result([("ok",)])  # PostgreSQL's own business
        if sql not in self.rows:
            raise crash_test.Failure("nodes_test.py does not know the check's query: " + sql)
        return Result(self.rows[sql])


class Result:
    def __init__(self, rows):
        self.rows = rows

    def fetchall(self):
        return self.rows

    def fetchone(self):
        return self.rows[0] if self.rows else None


class Nodes(crash_test.Harness):
    def __init__(self, args):
        super().__init__(args)
        self.pg = None
        self.nodes = [None] * NODES
        self.ports = []
        self.final_kill = 0.0

    def tool(self, *argv):
        result = crash_test.run([self.redress] + list(argv) + ["--database", self.pg.url, "--data-dir",
                                                                os.path.join(self.root, "node-0")])
        if result.returncode != 0:
            raise crash_test.Failure("redress %s failed (%d): %s" % (" ".join(argv), result.returncode, result.stdout))
        return result.stdout

    def setup(self):
        self.pg = Postgres(self.root)
        super().setup()  # migrate, staff, tokens, the SMTP capture server (through tool())
        self.ports = [self.free_port() for _ in range(NODES)]

    def start_node(self, i, manual_clock=False):
        data = os.path.join(self.root, "node-%d" % i)
        os.makedirs(data, exist_ok=True)
        key = os.path.join(self.root, "node-0", "server.key")
        if i != 0 and os.path.exists(key) and not os.path.exists(os.path.join(data, "server.key")):
            with open(key, "rb") as f, open(os.path.join(data, "server.key"), "wb") as g:  # one key for all nodes
                g.write(f.read())
            os.chmod(os.path.join(data, "server.key"), 0o600)
        self.serve_count += 1
        argv = [self.redress, "serve", "--database", self.pg.url, "--data-dir", data,
                "--listen", "127.0.0.1:%d" % self.ports[i], "--threads", "2",
                "--smtp", "smtp://127.0.0.1:%d" % self.smtp_port, "--smtp-starttls", "off"]
        if manual_clock:
            argv += ["--clock", "manual"]
        out = open(os.path.join(self.root, "serve-%d-%02d.log" % (i, self.serve_count)), "w")
        self.nodes[i] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.server, self.port = self.nodes[i], self.ports[i]  # what Harness.api and wait use
        deadline = time.time() + 60
        import http.client
        while time.time() < deadline:
            if self.nodes[i].poll() is not None:
                raise crash_test.Failure("node %d exited with %d at start: %s" % (
                    i, self.nodes[i].returncode, open(out.name).read()[-2000:]))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.ports[i], timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return
                c.close()
            except OSError:
                pass
            time.sleep(0.05)
        raise crash_test.Failure("node %d did not answer /healthz within 60 s" % i)

    def wait_healthy(self, limit=60.0):
        """Waits until every node answers /healthz 200 (their pools and writers reconnected)."""
        import http.client
        deadline = time.time() + limit
        for i in range(NODES):
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.ports[i], timeout=5)
                    c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        c.close()
                        break
                    c.close()
                except OSError:
                    pass
                if time.time() > deadline:
                    raise crash_test.Failure("node %d did not answer /healthz 200 within %.0f s of PostgreSQL's "
                                             "restart" % (i, limit))
                time.sleep(0.1)

    def start_clients(self):
        os.makedirs(os.path.join(self.root, "clients"), exist_ok=True)
        for i in range(self.args.clients):
            log = os.path.join(self.root, "clients", "%d.jsonl" % i)
            self.clients.append(subprocess.Popen(
                [sys.executable, os.path.join(HERE, "crash_test.py"), "client",
                 "--url", "127.0.0.1:%d" % self.ports[i % NODES], "--token", self.agent_token, "--log", log,
                 "--id", str(i), "--seed", str(self.rng.randrange(1 << 30)), "--stop", self.stop_file]))

    def check(self, final=False, now_us=None):
        records = self.client_records()  # read before the database: all of these must be in it
        self.checks += 1
        errors = [r for r in records if r["t"] == "error" and r.get("status") != 503]
        if errors:
            raise crash_test.Failure("a node answered 5xx other than 503: %s" % errors[:3])
        audit = crash_test.run([self.redress, "audit", "verify", "--database", self.pg.url])
        if audit.returncode != 0:
            raise crash_test.Failure("redress audit verify exited %d: %s" % (audit.returncode, audit.stdout))
        return self.check_database(Snapshot(self.pg), records, final, now_us)

    def main(self):
        args = self.args
        self.setup()
        for i in range(NODES):
            self.start_node(i)
        self.start_clients()
        self.log("%d nodes on %s, ports %s, %d clients; %d kills, seed %s; files in %s" % (
            NODES, self.pg.url, self.ports, args.clients, args.kills, args.seed, self.root))
        restarts = 0
        for k in range(1, args.kills + 1):
            time.sleep(self.rng.uniform(args.min_up, args.max_up))
            if restarts < args.postgres_restarts and k % 2 == 0:
                # PostgreSQL itself crashes under load and comes back: the nodes answer 503 meanwhile,
                # reconnect by themselves, and no acknowledged write is lost.
                restarts += 1
                self.pg.crash()
                down = time.time()
                time.sleep(self.rng.uniform(0.2, args.max_down))
                self.pg.start()
                # A mail sent just before the crash whose delivery could not be recorded is sent
                # again, byte for byte: the mail check allows a repeat across this as across a kill.
                self.kills.append((down, time.time()))
                self.wait_healthy()
                stats = self.check()
                self.log("kill %d/%d: PostgreSQL down %.2f s; %s" % (k, args.kills, time.time() - down,
                                                                     ", ".join("%s %d" % kv for kv in stats.items())))
                continue
            victim = self.rng.randrange(NODES)
            self.nodes[victim].send_signal(signal.SIGKILL)
            self.nodes[victim].wait()
            killed = time.time()
            time.sleep(self.rng.uniform(0.0, args.max_down))
            self.start_node(victim)
            self.kills.append((killed, time.time()))
            stats = self.check()
            self.log("kill %d/%d: node %d down %.2f s; %s" % (k, args.kills, victim, self.kills[-1][1] - killed,
                                                              ", ".join("%s %d" % kv for kv in stats.items())))
        # The end: quiet clients, every node stopped (the last one killed), one node on a manual
        # clock an hour on (past every lease and claim) fires and sends what is left.
        self.stop_clients()
        for i in range(NODES):
            self.nodes[i].send_signal(signal.SIGKILL)
            self.nodes[i].wait()
        self.final_kill = time.time()
        self.start_node(0, manual_clock=True)
        status, moved = self.api("POST", "/v1/admin/clock", {"advance": "PT1H"})
        if status != 200:
            raise crash_test.Failure("POST /v1/admin/clock answered %d: %s" % (status, moved))
        deadline = time.time() + 120
        while True:
            pending = sum(1 for _, s, _ in Snapshot(self.pg).execute(
                "SELECT id, status, delivered_at FROM notifications WHERE channel = 'email'").fetchall()
                          if s == "pending")
            if pending == 0:
                break
            if time.time() > deadline:
                raise crash_test.Failure("%d notifications still pending 120 s after the last start" % pending)
            time.sleep(0.2)
        status, health = self.api("GET", "/healthz")
        now_us = int(self.parse_time(health["time"]) * 1e6)
        stats = self.check(final=True, now_us=now_us)
        self.nodes[0].send_signal(signal.SIGTERM)
        self.nodes[0].wait(timeout=60)
        if self.nodes[0].returncode != 0:
            raise crash_test.Failure("redress serve exited with %d on SIGTERM" % self.nodes[0].returncode)
        self.log("final: %s" % ", ".join("%s %d" % kv for kv in stats.items()))
        self.log("PASS: %d kills of %d nodes, %d checks, %.0f s" % (len(self.kills), NODES, self.checks,
                                                                    time.time() - self.started))
        return 0

    def cleanup(self):
        for node in self.nodes:
            if node and node.poll() is None:
                node.kill()
                node.wait()
        self.server = None
        super().cleanup()
        if self.pg:
            self.pg.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--redress", default=os.path.join(HERE, "..", "..", "build", "redress"))
    p.add_argument("--kills", type=int, default=6)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--clients", type=int, default=6)
    p.add_argument("--min-up", type=float, default=1.0)
    p.add_argument("--max-up", type=float, default=3.0)
    p.add_argument("--max-down", type=float, default=1.5)
    p.add_argument("--postgres-restarts", type=int, default=0,
                   help="of the kills, this many (every other one) crash PostgreSQL itself instead of a node")
    p.add_argument("--keep")
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        print("PostgreSQL 15 is not installed (scripts/install-deps --test)", file=sys.stderr)
        return 2
    harness = Nodes(args)
    if args.keep is None:
        harness.root = tempfile.mkdtemp(prefix="redress-nodes-")
    try:
        code = harness.main()
    except crash_test.Failure as e:
        print("FAIL (seed %d, files kept in %s): %s" % (args.seed, harness.root, e), file=sys.stderr, flush=True)
        code = 1
    finally:
        harness.cleanup()
    if code == 0 and not args.keep:
        subprocess.run(["rm", "-rf", harness.root])
    return code


if __name__ == "__main__":
    sys.exit(main())
