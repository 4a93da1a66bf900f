#!/usr/bin/env python3
"""A tiny signing relay between a public HTML complaint form and a Redress intake hook.

    INTAKE_SECRET=whsec_... REDRESS_URL=http://127.0.0.1:8080 python3 examples/intake-relay.py

It serves examples/complaint-form.html at /, receives the form's POST at /complaint, maps the
fields to the JSON shape the [intake.web-form] mapping of examples/redress.toml expects, signs it
by the Standard Webhooks scheme with the source's secret and forwards it to
<REDRESS_URL>/hooks/intake/<INTAKE_SOURCE>. The client gets a page with their reference and the
private link to follow their complaint (or JSON, when the request asks for application/json).
The secret never reaches the browser. Python 3.8+ standard library only.

Environment:
  INTAKE_SECRET  the source's secret, "whsec_<base64>" (required)
  REDRESS_URL    the Redress server (default http://127.0.0.1:8080)
  INTAKE_SOURCE  the intake source name (default web-form)
  RELAY_LISTEN   where the relay listens, HOST:PORT (default 127.0.0.1:8090)
"""
import base64
import hashlib
import hmac
import html
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REDRESS_URL = os.environ.get("REDRESS_URL", "http://127.0.0.1:8080").rstrip("/")
SOURCE = os.environ.get("INTAKE_SOURCE", "web-form")
SECRET = os.environ.get("INTAKE_SECRET", "")
LISTEN = os.environ.get("RELAY_LISTEN", "127.0.0.1:8090")
FORM = Path(__file__).with_name("complaint-form.html")
MAX_FORM_BYTES = 64 * 1024


def sign(secret, msg_id, timestamp, body):
    """Standard Webhooks: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"> keyed with the decoded secret."""
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def to_payload(form):
    """Maps the form fields to the payload; empty fields are left out so the source's defaults apply."""
    def field(name):
        value = form.get(name, [""])[0].strip()
        return value or None

    complainant = {"name": field("name"), "email": field("email"), "phone": field("phone"), "locale": field("locale")}
    complaint = {"category": field("category"), "where": field("where"), "summary": field("summary"),
                 "details": field("details"), "wanted": field("wanted")}
    return {"complainant": {k: v for k, v in complainant.items() if v is not None},
            "complaint": {k: v for k, v in complaint.items() if v is not None}}


def forward(payload, msg_id):
    """Signs and posts the payload; returns (status, parsed JSON answer). Retries with the same
    webhook-id are safe: Redress refuses a replayed id with 409 and names the case it created."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        f"{REDRESS_URL}/hooks/intake/{urllib.parse.quote(SOURCE)}", data=body, method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 "webhook-id": msg_id, "webhook-timestamp": timestamp,
                 "webhook-signature": sign(SECRET, msg_id, timestamp, body)})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {"detail": error.reason}


def page(title, body_html):
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>body{{font:1.125rem/1.5 system-ui,sans-serif;color:#1b1b1b;max-width:40rem;margin:0 auto;padding:1.5rem 1rem}}
a{{color:#1d5fa8}}a:focus{{outline:3px solid #ffbf47}}.box{{border-left:5px solid #1d5fa8;padding:.5rem 1rem;background:#f3f6fa}}
.error{{border-left:5px solid #b00020;padding:.5rem 1rem}}</style></head>
<body><main>{body_html}</main></body></html>""".encode("utf-8")


class Relay(BaseHTTPRequestHandler):
    server_version = "redress-intake-relay"

    def send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def wants_json(self):
        return "application/json" in self.headers.get("Accept", "")

    def do_GET(self):
        if self.path in ("/", "/complaint-form.html"):
            return self.send(200, "text/html; charset=utf-8", FORM.read_bytes())
        self.send(404, "text/plain; charset=utf-8", b"not found\n")

    def do_POST(self):
        if self.path != "/complaint":
            return self.send(404, "text/plain; charset=utf-8", b"not found\n")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM_BYTES:
            return self.send(413, "text/plain; charset=utf-8", b"the form is too large\n")
        raw = self.rfile.read(length)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            form = {k: [v] for k, v in json.loads(raw or b"{}").items() if isinstance(v, str)}
        else:
            form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        if form.get("website", [""])[0]:
            # The honeypot was filled: pretend success, forward nothing.
            return self.send(200, "text/html; charset=utf-8", page("Thank you", "<h1>Thank you</h1>"))

        msg_id = "msg_" + uuid.uuid4().hex
        try:
            status, answer = forward(to_payload(form), msg_id)
            if status >= 500:
                status, answer = forward(to_payload(form), msg_id)  # once more, same webhook-id
        except (urllib.error.URLError, OSError) as error:
            print(f"relay: cannot reach {REDRESS_URL}: {error}", file=sys.stderr, flush=True)
            status, answer = 502, {"detail": "the complaints service cannot be reached"}
        if status == 409 and answer.get("reference"):  # our retry landed after the first one had worked
            status, answer = 201, {"reference": answer["reference"], "client_url": None}
        print(f"relay: {msg_id} -> {status} {answer.get('reference', answer.get('detail', ''))}", flush=True)

        if self.wants_json():
            out = {"reference": answer.get("reference"), "status_url": answer.get("client_url")} if status == 201 else answer
            return self.send(201 if status == 201 else status, "application/json", json.dumps(out).encode())
        if status == 201:
            reference = html.escape(answer["reference"])
            link = answer.get("client_url")
            link_html = (f'<p>Follow your complaint, reply to us and see our commitments to you at your private link:</p>'
                         f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
                         f'<p>Keep this link to yourself: anyone who has it can see your complaint.</p>') if link else ""
            return self.send(201, "text/html; charset=utf-8", page(
                f"Complaint {answer['reference']} received",
                f'<h1>Thank you: we have your complaint</h1><div class="box"><p>Your reference is <strong>{reference}</strong>.</p></div>'
                f"{link_html}<p>We will also send these details to your email address.</p>"))
        if status == 422:
            items = "".join(f"<li>{html.escape(f.get('field', ''))}: {html.escape(f.get('message', ''))}</li>"
                            for f in answer.get("fields", []))
            return self.send(422, "text/html; charset=utf-8", page(
                "There is a problem with your complaint",
                f'<div class="error" role="alert"><h1>There is a problem</h1><p>Please check these and send the form again:</p>'
                f'<ul>{items}</ul></div><p><a href="/">Back to the form</a></p>'))
        return self.send(502, "text/html; charset=utf-8", page(
            "Sorry, we could not send your complaint",
            '<div class="error" role="alert"><h1>Sorry, something went wrong</h1>'
            '<p>We could not send your complaint just now. Please try again in a few minutes.</p></div>'))

    def log_message(self, fmt, *args):
        sys.stderr.write("relay: %s %s\n" % (self.address_string(), fmt % args))


def main():
    if not SECRET.startswith("whsec_"):
        sys.exit("intake-relay: set INTAKE_SECRET to the source's secret (whsec_...)")
    host, _, port = LISTEN.rpartition(":")
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Relay)
    print(f"relay: listening on http://{server.server_address[0]}:{server.server_address[1]}, "
          f"forwarding to {REDRESS_URL}/hooks/intake/{SOURCE}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
