// A web hook receiver for the sender's tests: an HTTP (or HTTPS) server on an ephemeral loopback
// port that verifies every delivery with npm `standardwebhooks`, records it, and answers by a plan.
//
//   node tests/node/webhook-receiver.mjs --secret whsec_... --log FILE [--plan JSON]
//                                        [--tls-cert PEM --tls-key PEM] [--host 127.0.0.1]
//
// Prints "listening <port>" on stdout once it accepts connections; runs until SIGTERM.
// Each request appends one JSON line to FILE, written before the answer is sent:
//   {"n", "method", "url", "id", "timestamp", "signature", "verified", "error", "skew",
//    "remote_port", "content_type", "user_agent", "body"}
// where `skew` is this receiver's clock minus webhook-timestamp, in seconds, and `remote_port` is
// the client's TCP port (one port for several requests: the connection was reused).
// The plan: {"sequence": [answer, ...], "default": answer}; request n (from 0) gets sequence[n],
// or the default (204) past its end. An answer: {"status", "headers", "body", "repeat" (the body
// that many times), "delay_ms", "retry_after_date_in" (Retry-After as an HTTP-date that many
// seconds from now)}.
import { appendFileSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { Webhook } from "standardwebhooks";

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const secret = option("secret");
const log = option("log");
if (!secret || !log) {
  console.error("usage: webhook-receiver.mjs --secret whsec_... --log FILE [--plan JSON]");
  process.exit(2);
}
const plan = JSON.parse(option("plan", "{}"));
const sequence = plan.sequence ?? [];
const fallback = plan.default ?? { status: 204 };
const webhook = new Webhook(secret);
let count = 0;

function handle(request, response) {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const n = count++;
    const payload = Buffer.concat(chunks);
    const headers = request.headers;
    let verified = false;
    let error = null;
    try {
      webhook.verify(payload, headers);
      verified = true;
    } catch (e) {
      error = String(e.message ?? e);
    }
    const timestamp = Number.parseInt(headers["webhook-timestamp"] ?? "", 10);
    const record = {
      n,
      method: request.method,
      url: request.url,
      id: headers["webhook-id"] ?? null,
      timestamp: Number.isNaN(timestamp) ? null : timestamp,
      signature: headers["webhook-signature"] ?? null,
      verified,
      error,
      skew: Number.isNaN(timestamp) ? null : Math.floor(Date.now() / 1000) - timestamp,
      remote_port: request.socket.remotePort,
      content_type: headers["content-type"] ?? null,
      user_agent: headers["user-agent"] ?? null,
      body: payload.toString("utf8"),
    };
    appendFileSync(log, `${JSON.stringify(record)}\n`);
    const answer = n < sequence.length ? sequence[n] : fallback;
    const send = () => {
      const extra = { ...(answer.headers ?? {}) };
      if (answer.retry_after_date_in !== undefined)
        extra["retry-after"] = new Date(Date.now() + answer.retry_after_date_in * 1000).toUTCString();
      const body = (answer.body ?? "").repeat(answer.repeat ?? 1);
      response.writeHead(answer.status ?? 204, { "content-type": "text/plain", ...extra });
      response.end(body);
    };
    if (answer.delay_ms) setTimeout(send, answer.delay_ms);
    else send();
  });
}

const tlsCert = option("tls-cert");
const server = tlsCert
  ? https.createServer({ cert: readFileSync(tlsCert), key: readFileSync(option("tls-key")) }, handle)
  : http.createServer(handle);
server.keepAliveTimeout = 60_000;
server.listen(0, option("host", "127.0.0.1"), () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
// A slow answer may still be pending: end at once on SIGTERM.
process.on("SIGTERM", () => process.exit(0));
