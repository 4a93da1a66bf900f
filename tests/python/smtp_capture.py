#!/usr/bin/python3
"""An SMTP server for the mail tests (Debian's python3-aiosmtpd), on loopback.

Every message it accepts is written to --dir as NNNN.eml (the DATA as received, dot-unstuffed)
and NNNN.json (envelope, connection number), each file written whole then renamed into place.
The listening port is written to --port-file once the server accepts connections. Faults on
demand, keyed by recipient address:
  --refuse ADDR=REPLY        answer RCPT TO:<ADDR> with REPLY ("550 5.1.1 no such user")
  --data-reply ADDR=REPLY    answer the end of the message with REPLY, and keep nothing
  --drop-after-data ADDR     keep the message, then drop the connection without a reply
Options: --starttls CERT KEY offers STARTTLS; --implicit-tls CERT KEY speaks TLS from the start;
--auth USER:PASSWORD requires AUTH. The server stops on SIGTERM, when its parent exits, or after
--lifetime seconds. Run it with /usr/bin/python3, where Debian's aiosmtpd is installed.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_whole(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Capture:
    def __init__(self, args):
        self.dir = args.dir
        self.refuse = dict(item.split("=", 1) for item in args.refuse)
        self.data_reply = dict(item.split("=", 1) for item in args.data_reply)
        self.drop = set(args.drop_after_data)
        self.counter = itertools.count(1)
        self.connections = 0

    def connection_opened(self):
        self.connections += 1
        with open(os.path.join(self.dir, "connections.log"), "a") as f:
            f.write("%d\n" % self.connections)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.data_reply:
                return self.data_reply[rcpt]
        n = next(self.counter)
        base = os.path.join(self.dir, "%04d" % n)
        envelope_info = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "connection": session.capture_connection,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
        }
        write_whole(base + ".eml", envelope.original_content)
        write_whole(base + ".json", json.dumps(envelope_info).encode())
        if any(rcpt in self.drop for rcpt in envelope.rcpt_tos):
            server.transport.abort()
            return "250 2.0.0 dropped"  # never reaches the client
        return "250 2.0.0 Ok: queued as capture-%04d" % n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--data-reply", action="append", default=[])
    parser.add_argument("--drop-after-data", action="append", default=[])
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth")
    parser.add_argument("--lifetime", type=float, default=600)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    capture = Capture(args)

    def context(pair):
        if not pair:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(pair[0], pair[1])
        return ctx

    starttls = context(args.starttls)
    implicit = context(args.implicit_tls)
    user, password = (args.auth.split(":", 1) if args.auth else (None, None))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    class CaptureSMTP(SMTP):
        def _create_session(self):
            session = super()._create_session()
            session.capture_connection = capture.connections
            return session

    def factory():
        capture.connection_opened()
        kwargs = dict(hostname="capture.test", tls_context=starttls, require_starttls=False)
        if args.auth:
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=False)
        return CaptureSMTP(capture, **kwargs)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=args.port, ssl=implicit))
    port = server.sockets[0].getsockname()[1]
    write_whole(args.port_file, str(port).encode())

    parent = os.getppid()
    stop = loop.create_future()

    def finish():
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, finish)
    loop.add_signal_handler(signal.SIGINT, finish)

    async def watch():
        waited = 0.0
        while not stop.done():
            await asyncio.sleep(0.2)
            waited += 0.2
            if os.getppid() != parent or waited > args.lifetime:
                finish()

    loop.create_task(watch())
    loop.run_until_complete(stop)
    server.close()
    loop.run_until_complete(server.wait_closed())
    return 0


if __name__ == "__main__":
    sys.exit(main())
